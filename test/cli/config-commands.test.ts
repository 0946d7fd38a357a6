import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/audit/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { openSettings } from '../../src/settings/index.ts';
import { openEmbeddedStore } from '../../src/storage/index.ts';
import { runProject } from '../support/processes.ts';

const signingPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('portcullis config export, import and sign', () => {
  let dir: string;
  let env: Record<string, string>;
  const cli = (args: string[]) => runProject('src/cli/main.ts', ['config', ...args], { env });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-config-cli-'));
    env = { DATA_DIR: join(dir, 'data'), KEYS_DIR: join(dir, 'keys'), CONFIG_SIGNATURE_KEY: signingPem.replaceAll('\n', '\\n') };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('exports a signed document, refuses it edited by hand, and after signing shows the change in a dry run, then applies it on the record', async () => {
    const file = join(dir, 'export.json');
    const exported = await cli(['export', '--output', file]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /^signed with CONFIG_SIGNATURE_KEY/);
    const document = JSON.parse(await readFile(file, 'utf8')) as Record<string, any>;
    document.settings.tokenRateLimitPerClient.value = 42;
    await writeFile(file, JSON.stringify(document, null, 2));

    const edited = await cli(['import', file, '--dry-run']);
    assert.equal(edited.code, 2);
    assert.match(edited.stdout, /^signature: refused: its signature does not match its contents: it was changed after it was signed$/m);
    assert.match(edited.stderr, /^portcullis: the document is refused; nothing was applied$/m);

    assert.equal((await cli(['sign', file])).code, 0);
    const dryRun = await cli(['import', file, '--dry-run']);
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    assert.match(dryRun.stdout, /^Settings: 1 change\n {2}~ tokenRateLimitPerClient: 600 -> 42$/m);
    assert.match(dryRun.stdout, /^dry run: nothing was applied$/m);

    const applied = await cli(['import', file]);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.match(applied.stdout, /^applied$/m);
    const store = await openEmbeddedStore({ dataDir: env.DATA_DIR! });
    try {
      const settings = await openSettings({ config: loadConfig({ NODE_ENV: 'test', DATA_DIR: env.DATA_DIR! }), store, audit: { append: async () => ({ seq: -1 }) } });
      assert.equal(settings.current().tokenRateLimitPerClient, 42);
      // The server drains these into the audit log.
      const queued = (await store.findByTag<{ event: AuditEvent }>('audit-outbox')).map((record) => record.value.event.type);
      assert.deepEqual(queued.filter((type) => type.startsWith('admin.config.')).sort(), ['admin.config.exported', 'admin.config.imported']);
    } finally {
      await store.close();
    }
  });
});
