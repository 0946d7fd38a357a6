import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/ports.ts';
import { runProject, startProject, WITH_DEMO_MCP } from '../support/processes.ts';

describe('one process per data directory', () => {
  let root: string;
  before(async () => { root = await mkdtemp(join(tmpdir(), 'portcullis-one-writer-')); });
  after(() => rm(root, { recursive: true, force: true }));

  async function settings(dir: string, extra: Record<string, string> = {}) {
    return {
      DATA_DIR: join(root, dir), KEYS_DIR: join(root, `${dir}-keys`), RSA_PRIVATE_KEY_PATH: join(root, 'absent'),
      PORT: String(await freePort()), DEMO_MCP_PORT: String(await freePort()), ...extra,
    };
  }

  /** Every file under the directory with its size: what a failed start must leave as it was. */
  async function snapshot(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    const files = entries.filter((entry) => entry.isFile() && !entry.name.endsWith('.lock') && !entry.name.endsWith('.pid'));
    return (await Promise.all(files.map(async (entry) => `${join(entry.parentPath, entry.name)} ${(await stat(join(entry.parentPath, entry.name))).size}`))).sort();
  }

  it('refuses a second server on the same DATA_DIR with one line naming the directory and the first one\'s pid', async () => {
    const env = await settings('shared');
    const first = await startProject(env, undefined, undefined, { nodeArgs: WITH_DEMO_MCP });
    try {
      const second = await runProject('src/main.ts', [], { env: { ...env, PORT: String(await freePort()), DEMO_MCP_PORT: String(await freePort()) } });
      assert.equal(second.code, 2, second.stderr);
      assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`^portcullis: DATA_DIR: ${join(root, 'shared')} is in use by another process \\(pid ${first.pid}\\)`));
    } finally {
      await first.stop();
    }
  });

  it('lets a new server start at once after the one holding the directory was killed with SIGKILL', async () => {
    const env = await settings('killed');
    const first = await startProject(env, undefined, undefined, { nodeArgs: WITH_DEMO_MCP });
    const exited = new Promise<void>((resolve) => {
      const poll = setInterval(() => { try { process.kill(first.pid, 0); } catch { clearInterval(poll); resolve(); } }, 20);
    });
    process.kill(first.pid, 'SIGKILL');
    await exited;
    const second = await startProject(env);
    await second.stop();
  });

  it('writes nothing to the audit logs when start-up fails on a port in use', async () => {
    const env = await settings('busy-port');
    const first = await startProject(env, undefined, undefined, { nodeArgs: WITH_DEMO_MCP });
    await first.stop();
    const before = await snapshot(join(root, 'busy-port', 'audit'));
    assert.ok(before.some((line) => line.includes('segment-')), 'the first start wrote its log');
    const blocker = createServer().listen(Number(env.DEMO_MCP_PORT), '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const failed = await runProject('src/main.ts', [], { env: { ...env, PORT: String(await freePort()) }, nodeArgs: WITH_DEMO_MCP });
      assert.equal(failed.code, 2, failed.stderr);
      assert.match(failed.stderr, /DEMO_MCP_PORT/);
    } finally {
      blocker.close();
    }
    assert.deepEqual(await snapshot(join(root, 'busy-port', 'audit')), before);
  });
});
