import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuditVerifier, recoverLog, storedVerificationStatuses, verifierKey, type AuditLog } from '../../src/audit/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/storage/index.ts';
import { loginEvent, ORIGIN, tempDir, testLog, type TestLog } from './support.ts';

/** Changes one subject in a segment file, as someone editing the log by hand would. */
async function tamper(dir: string, segment: string, from: string, to: string): Promise<() => Promise<void>> {
  const path = join(dir, segment);
  const original = await readFile(path, 'utf8');
  assert.ok(original.includes(from), `${segment} holds ${from}`);
  await writeFile(path, original.replace(from, to));
  return () => writeFile(path, original);
}

describe('the audit log verifier in the server', () => {
  let store: EmbeddedStore;

  before(async () => {
    store = await openEmbeddedStore({ dataDir: await tempDir('portcullis-verify-store-'), sweepIntervalMs: 0 });
  });
  after(() => store.close());

  async function writtenLog(records: number, options = { segmentMaxRecords: 4 }): Promise<{ fixture: TestLog; log: AuditLog; verifier: AuditVerifier }> {
    const fixture = await testLog(options);
    const log = await fixture.open();
    for (let index = 0; index < records; index += 1) await log.append(loginEvent(index));
    await log.checkpoint();
    const verifier = new AuditVerifier({
      dir: fixture.dir, verifierKey: verifierKey(ORIGIN, createPublicKey(fixture.key)), statuses: storedVerificationStatuses(store, { dir: fixture.dir, origin: ORIGIN }),
    });
    return { fixture, log, verifier };
  }

  test('an intact log verifies, then later checks read only the records since the last verified checkpoint and one older segment', async () => {
    const { log, verifier } = await writtenLog(10);
    const first = await verifier.verify();
    assert.equal(first.result, 'verified');
    assert.deepEqual(first.verified?.size, 10);
    assert.deepEqual(first.checked, { from: 0, to: 9 });
    for (let index = 10; index < 15; index += 1) await log.append(loginEvent(index));
    await log.checkpoint();
    const second = await verifier.verify('admin-1');
    assert.equal(second.result, 'verified');
    assert.equal(second.verified?.size, 15);
    assert.equal(second.trigger, 'admin-1');
    assert.deepEqual(second.checked, { from: 8, to: 14 }, 'from the segment holding the last verified record');
    assert.deepEqual(await verifier.status(), second, 'kept in the Store');
    await log.close();
  });

  test('a record changed after it was signed makes the status failed, naming the place, until the file is restored', async () => {
    const { fixture, log, verifier } = await writtenLog(10);
    assert.equal((await verifier.verify()).result, 'verified');
    const restore = await tamper(fixture.dir, 'segment-000000000008.jsonl', 'user-9', 'user-6');
    const failed = await verifier.verify();
    assert.equal(failed.result, 'failed');
    assert.match(failed.problem!, /segment-000000000008\.jsonl line 2 seq 9: the leaf hash does not match/);
    assert.equal(failed.verified?.size, 10, 'the last good checkpoint is kept');
    assert.equal((await verifier.verify()).result, 'failed', 'a failure stays until the log verifies again');
    await restore();
    assert.equal((await verifier.verify()).result, 'verified');
    await log.close();
  });

  test('a change in an older segment is found by the checks that go round the older segments', async () => {
    const { fixture, log, verifier } = await writtenLog(17);
    assert.equal((await verifier.verify()).result, 'verified');
    await tamper(fixture.dir, 'segment-000000000004.jsonl', 'user-5', 'user-3');
    const results = [];
    for (let check = 0; check < 4; check += 1) results.push(await verifier.verify());
    const failed = results.find((status) => status.result === 'failed');
    assert.ok(failed, `one of ${results.length} checks finds it: ${results.map((status) => status.result).join(', ')}`);
    assert.match(failed.problem!, /segment-000000000004\.jsonl line 2 seq 5/);
    await log.close();
  });

  test('checkpoints removed from the end of a verified log make the status failed', async () => {
    const { fixture, log, verifier } = await writtenLog(6);
    for (let index = 6; index < 9; index += 1) await log.append(loginEvent(index));
    await log.close();
    assert.equal((await verifier.verify()).verified?.size, 9);
    await rm(join(fixture.dir, 'checkpoint-000000000009.note'));
    assert.match((await verifier.verify()).problem ?? '', /the newest checkpoint signs 6 records, but 9 were verified before: records were removed/);
    assert.equal((await verifier.verify()).result, 'failed', 'the next check, reading the whole log, still holds it against what was verified');
    await rm(join(fixture.dir, 'checkpoint-000000000006.note'));
    assert.match((await verifier.verify()).problem ?? '', /no checkpoint is left/);
  });

  test('bytes after the last full record of the active segment are an append in progress, not damage', async () => {
    const { fixture, log, verifier } = await writtenLog(6);
    await log.close();
    const active = join(fixture.dir, 'segment-000000000004.jsonl');
    await writeFile(active, `${await readFile(active, 'utf8')}{"event":{"type":"login.succ`);
    assert.equal((await verifier.verify()).result, 'verified');
  });

  test('a recovery the log recorded explains the records it cut: the next check reads the whole log and verifies', async () => {
    const { fixture, log, verifier } = await writtenLog(9, { segmentMaxRecords: 100 });
    await log.close();
    assert.equal((await verifier.verify()).verified?.size, 9);
    await tamper(fixture.dir, 'segment-000000000000.jsonl', 'user-6', 'user-0');
    await recoverLog({ dir: fixture.dir, origin: ORIGIN, signingKey: fixture.key, log: silentLogger() });
    await (await fixture.open()).close();
    const restarted = new AuditVerifier({
      dir: fixture.dir, verifierKey: verifierKey(ORIGIN, createPublicKey(fixture.key)), statuses: storedVerificationStatuses(store, { dir: fixture.dir, origin: ORIGIN }),
    });
    const after = await restarted.verify();
    assert.equal(after.result, 'verified', after.problem);
    assert.equal(after.verified?.size, 7, 'six records kept, then audit.recovered');
    assert.equal((await restarted.verify()).result, 'verified');
  });

  test('a log without a checkpoint says nothing is signed yet', async () => {
    const fixture = await testLog();
    const log = await fixture.open();
    const verifier = new AuditVerifier({
      dir: fixture.dir, verifierKey: verifierKey(ORIGIN, createPublicKey(fixture.key)), statuses: storedVerificationStatuses(store, { dir: fixture.dir, origin: ORIGIN }),
    });
    assert.equal((await verifier.verify()).result, 'nothing_signed');
    await log.close();
  });
});
