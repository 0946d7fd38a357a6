import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/index.ts';
import { notesIdempotencySettings } from '../../examples/notes-mcp/settings.ts';

describe('the demo notes server\'s own settings', () => {
  it('keeps idempotent results a day and waits for running calls by default; names a bad idempotency setting', () => {
    assert.deepEqual(notesIdempotencySettings({}), { ttlSeconds: 86400, required: false, deriveKeys: false, whileRunning: 'wait' });
    assert.equal(notesIdempotencySettings({ IDEMPOTENCY_REQUIRED: 'true' }).required, true);
    assert.throws(() => notesIdempotencySettings({ IDEMPOTENCY_WHILE_RUNNING: 'sometimes' }),
      (error: ConfigError) => error instanceof ConfigError && /^IDEMPOTENCY_WHILE_RUNNING: .*"wait"\|"reject" \(got "sometimes"\)$/.test(error.message));
    assert.throws(() => notesIdempotencySettings({ IDEMPOTENCY_TTL_SECONDS: '0' }), (error: ConfigError) => error.setting === 'IDEMPOTENCY_TTL_SECONDS');
  });

  it('are no settings of the authorization server', async () => {
    const { loadConfig } = await import('../../src/config/index.ts');
    assert.equal('idempotencyTtlSeconds' in loadConfig({}), false);
  });
});
