import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifierKey, witnessOnce } from '../../src/audit/index.ts';
import { tempDir } from '../audit/support.ts';
import { startTestServer, type TestServer } from '../support/authorization-server.ts';
import { runProject } from '../support/processes.ts';

const ORIGIN = 'auth.witness.test/audit';

describe('an outside witness following the audit checkpoints', () => {
  let first: TestServer;
  let second: TestServer;
  let stateFile: string;
  let key: string;
  const witness = (url: string) => runProject('src/cli/main.ts', ['audit', 'witness', url, '--state', stateFile, '--key', key], { env: { DATA_DIR: join(stateFile, '..', 'data') } });
  const grow = async (server: TestServer, events: number) => {
    await Promise.all(Array.from({ length: events }, (_unused, index) => server.audit.sink.append({ type: 'login.succeeded', subject: `user-${index}` })));
    await server.audit.log!.checkpoint();
  };

  before(async () => {
    // Two instances claiming one log (same origin and key) but writing different records: a forked log.
    const { privateKey } = generateKeyPairSync('ed25519');
    key = verifierKey(ORIGIN, privateKey);
    const env = { AUDIT_ORIGIN: ORIGIN, AUDIT_SIGNING_KEY_PEM: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    [first, second] = await Promise.all([startTestServer(env), startTestServer(env)]);
    stateFile = join(await tempDir(), 'witness', 'checkpoint.note');
  });
  after(async () => {
    await Promise.all([first.destroy(), second.destroy()]);
  });

  it('serves the newest signed checkpoint as a C2SP note, and answers bad proof requests with problem+json', async () => {
    await first.audit.log!.checkpoint();
    const response = await fetch(`${first.url}/audit/checkpoint`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.match(await response.text(), new RegExp(`^${ORIGIN}\\n1\\n[A-Za-z0-9+/]{43}=\\n\\n\u2014 ${ORIGIN} `));
    for (const query of ['old=2&new=1', 'old=x&new=1', 'old=0&new=999']) {
      const refused = await fetch(`${first.url}/audit/consistency?${query}`);
      assert.ok([400, 404].includes(refused.status), query);
      assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    }
  });

  it('keeps the first checkpoint, accepts one that extends it, and raises a fork alert for another instance\'s tree of the same log', async () => {
    const kept = await witness(`${first.url}/audit/checkpoint`);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.stdout, `witness: ${first.url}/audit/checkpoint: 1 records, first checkpoint kept\n`);

    await grow(first, 4);
    assert.deepEqual(await witnessOnce({ url: `${first.url}/audit/checkpoint`, stateFile, verifierKey: key }), { status: 'consistent', size: 5, previousSize: 1 });
    assert.deepEqual(await witnessOnce({ url: `${first.url}/audit/checkpoint`, stateFile, verifierKey: key }), { status: 'same', size: 5, previousSize: 5 });
    const accepted = await readFile(stateFile, 'utf8');

    await grow(second, 7);
    const alert = await witness(`${second.url}/audit/checkpoint`);
    assert.equal(alert.code, 1, alert.stdout + alert.stderr);
    assert.match(alert.stderr, /^ALERT FORK: .*: the tree of 8 records does not extend the tree of 5 records: the log was forked or rewritten \(last accepted checkpoint kept in .*\)\n$/);
    assert.equal(await readFile(stateFile, 'utf8'), accepted, 'the accepted checkpoint is kept as evidence');
  });
});
