import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { tempDir, testLog } from '../audit/support.ts';
import { CHILD_ENV, PROJECT_ROOT, runProject } from '../support/processes.ts';

describe('the portcullis command: audit query across logs', () => {
  let env: Record<string, string>;
  const cli = (args: string[]) => runProject('src/cli/main.ts', ['audit', 'query', ...args], { env });

  before(async () => {
    const root = await tempDir();
    const auditDir = join(root, 'audit');
    env = { DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys'), AUDIT_DIR: auditDir };
    const logs: Array<[string, Array<Record<string, unknown>>]> = [
      ['', Array.from({ length: 3000 }, (_unused, index) => ({ type: 'login.succeeded', subject: `user-${index}`, client: 'a-client-with-a-long-name' }))],
      ['notes-mcp', [{ type: 'tool.executed', tool: 'create_note', subject: 'alice' }, { type: 'tool.executed', tool: 'list_notes', subject: 'alice' }]],
      ['worker-1/notes-mcp', [{ type: 'tool.executed', tool: 'create_note', subject: 'bob' }]],
    ];
    for (const [name, events] of logs) {
      const log = await (await testLog()).open({ dir: join(auditDir, name) });
      await Promise.all(events.map((event) => log.append(event as never)));
      await log.close();
    }
  });

  it('finds tool events in every log under AUDIT_DIR and says which log holds each', async () => {
    const result = await cli(['--tool', 'create_note']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { log?: string; event: { subject: string } });
    assert.deepEqual(lines.map((line) => [line.log, line.event.subject]), [['notes-mcp', 'alice'], ['worker-1/notes-mcp', 'bob']]);
  });

  it('filters by client', async () => {
    const result = await cli(['--client', 'a-client-with-a-long-name', '--subject', 'user-7', '--log', '']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { event: { subject: string } }).event.subject), ['user-7']);
    assert.equal((await cli(['--client', 'another-client'])).stdout, '');
  });

  it('says which logs hold the events when the chosen log has none', async () => {
    const result = await cli(['--tool', 'create_note', '--log', 'worker-1']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'no matching events in --log worker-1; 1 in --log notes-mcp, 1 in --log worker-1/notes-mcp\n');
  });

  it('exits quietly when the reader stops early, as `| head` does', async () => {
    const child = spawn(process.execPath, ['src/cli/main.ts', 'audit', 'query'], { cwd: PROJECT_ROOT, env: { ...CHILD_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    await once(child.stdout, 'data');
    child.stdout.destroy();
    const [code] = await once(child, 'exit') as [number | null];
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
