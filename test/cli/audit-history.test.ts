import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/index.ts';
import { startTestServer, type TestServer } from '../support/authorization-server.ts';
import { freePort } from '../support/ports.ts';
import { runProject } from '../support/processes.ts';

describe('the audit log across port changes, key rotation and key loss', () => {
  const servers: TestServer[] = [];
  after(() => servers[0]?.destroy());

  const cli = (server: TestServer, args: string[], issuer = server.issuer) =>
    runProject('src/cli/main.ts', ['audit', ...args], { env: { DATA_DIR: server.dirs.dataDir, KEYS_DIR: server.dirs.keysDir, ISSUER: issuer } });

  async function restartOn(first: TestServer, port: number): Promise<TestServer> {
    const server = await startTestServer({ PORT: String(port) }, first.dirs);
    servers.push(server);
    await server.stop();
    return server;
  }

  it('records a restart on another port as audit.origin_changed, and verify trusts the log under the old and the new origin', async () => {
    const first = await startTestServer();
    servers.push(first);
    await first.stop();
    const moved = await restartOn(first, await freePort());
    for (const issuer of [moved.issuer, first.issuer]) {
      const result = await cli(moved, ['verify'], issuer);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /^audit log OK: records 0\.\.2, 3 checkpoints verified; audit\.origin_changed at seq 1\n$/);
    }
    const query = await cli(moved, ['query', '--type', 'audit.origin_changed']);
    const event = (JSON.parse(query.stdout) as { event: Record<string, string> }).event;
    assert.equal(event.from_origin, `${new URL(first.issuer).host}/audit`);
    assert.equal(event.to_origin, `${new URL(moved.issuer).host}/audit`);
  });

  it('rotates the audit key: the handover is signed by both keys, and either verifier key checks the whole log', async () => {
    const server = servers.at(-1)!;
    const oldKey = (await cli(server, ['key'])).stdout.trim();
    const rotated = await cli(server, ['rotate-key']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /^audit key rotated: the log recorded audit\.key_rotated at seq 3, signed by the old and the new key\./);
    const newKey = (await cli(server, ['key'])).stdout.trim();
    assert.notEqual(newKey, oldKey);
    assert.ok(rotated.stdout.includes(newKey));
    const next = await restartOn(server, Number(new URL(server.issuer).port));
    for (const key of [[], ['--key', oldKey], ['--key', newKey]]) {
      const result = await cli(next, ['verify', ...key]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /^audit log OK: records 0\.\.4, \d+ checkpoints verified; audit\.origin_changed at seq 1; audit\.key_rotated at seq 3\n$/);
    }
  });

  it('refuses to start when the audit key of an existing log is gone, and after rotate-key --old-key-lost reports the old checkpoints as signed by the lost key, not as damage', async () => {
    const server = servers.at(-1)!;
    await rm(join(server.dirs.keysDir, 'audit-ed25519.pem'));
    await assert.rejects(startTestServer({ PORT: new URL(server.issuer).port }, server.dirs), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.setting, 'KEYS_DIR');
      assert.match(error.message, /the audit log in .* exists: restore its key, or if it is lost run portcullis audit rotate-key --old-key-lost/);
      return true;
    });
    const rotated = await cli(server, ['rotate-key', '--old-key-lost']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /old key lost; signed by the new key only/);
    const next = await restartOn(server, Number(new URL(server.issuer).port));
    const result = await cli(next, ['verify']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /audit\.key_rotated at seq 5 \(old key lost\); \d+ older checkpoints are signed by keys from before the lost one \(localhost:\d+\/audit key id [0-9a-f]{8}\)/);
  });
});
