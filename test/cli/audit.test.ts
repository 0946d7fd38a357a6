import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkConsistency, checkInclusionProof, parseVerifierKey, type ConsistencyProof, type InclusionProof } from '../../src/audit/index.ts';
import { openCheckpoint } from '../../src/audit/signed-note.ts';
import { startTestServer, type TestServer } from '../support/authorization-server.ts';
import { runProject } from '../support/processes.ts';

describe('the portcullis command: audit', () => {
  let server: TestServer;
  let env: Record<string, string>;
  const cli = (args: string[]) => runProject('src/cli/main.ts', ['audit', ...args], { env });

  before(async () => {
    // Two starts and stops: two config.loaded events, each start and stop checkpointed.
    server = await startTestServer();
    await server.stop();
    await (await server.restart()).stop();
    env = { DATA_DIR: server.dirs.dataDir, KEYS_DIR: server.dirs.keysDir, ISSUER: server.issuer };
  });
  after(() => server.destroy());

  it('verifies an untouched log', async () => {
    const result = await cli(['verify']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^audit log OK: records 0\.\.1, \d+ checkpoints verified\n$/);
  });

  it('prints matching events as JSON lines, and an inclusion proof that checks with the published verifier key', async () => {
    const [query, proof] = await Promise.all([cli(['query', '--type', 'config.loaded', '--from', '2000-01-01']), cli(['proof', '1'])]);
    const lines = query.stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; event: { type: string } });
    assert.deepEqual(lines.map((line) => [line.seq, line.event.type]), [[0, 'config.loaded'], [1, 'config.loaded']]);
    assert.equal(proof.code, 0, proof.stderr);
    const parsed = JSON.parse(proof.stdout) as InclusionProof & { verifier_key: string };
    assert.match(parsed.verifier_key, /^localhost:\d+\/audit\+[0-9a-f]{8}\+/);
    checkInclusionProof(parsed, parsed.verifier_key);
  });

  it('prints an RFC 9162 consistency proof between two checkpoints that checks with the published verifier key', async () => {
    const result = await cli(['consistency', '1', '2']);
    assert.equal(result.code, 0, result.stderr);
    const proof = JSON.parse(result.stdout) as ConsistencyProof & { verifier_key: string };
    assert.deepEqual([proof.old_size, proof.new_size, proof.consistency_path.length], [1, 2, 1]);
    const { name, publicKey } = parseVerifierKey(proof.verifier_key);
    for (const note of [proof.old_checkpoint, proof.new_checkpoint]) openCheckpoint(note, name, publicKey);
    checkConsistency(proof.old_checkpoint, proof.new_checkpoint, proof.consistency_path);
    const missing = await cli(['consistency', '1', '5']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^portcullis: no checkpoint of tree size 5 \(they are: 1, 2\)\n$/);
  });

  it('names the broken record and exits non-zero after a byte changed', async () => {
    const path = join(server.config.auditDir, 'segment-000000000000.jsonl');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"config.loaded"', '"config.loadeD"'));
    const result = await cli(['verify']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^audit log BROKEN: segment-000000000000\.jsonl line 1 seq 0: the leaf hash does not match/);
  });

  it('recovers the broken log: the damaged segment is kept, the cut is recorded, and verify reports the gap', async () => {
    const recovered = await cli(['recover']);
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.match(recovered.stdout, /^audit log recovered: cut 2 damaged lines \(\d+ bytes\) from segment-000000000000\.jsonl, from seq 0 on;\nthe damaged segment is kept unchanged as damaged-segment-000000000000\.jsonl, and \d+ checkpoints that signed other records are kept as set-aside-\*\.\nThe log recorded audit\.recovered at seq 0; the server can start again\.\n$/);
    const verified = await cli(['verify']);
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /^audit log OK: records 0\.\.0, 1 checkpoints verified; audit\.recovered at seq 0: 2 damaged lines from seq 0 on were cut from segment-000000000000\.jsonl \(kept unchanged in damaged-segment-000000000000\.jsonl\)\n$/);
    await (await server.restart()).stop();
  });
});
