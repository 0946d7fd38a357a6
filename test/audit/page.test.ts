import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parseDateBound, proveAndCheck, readPage, readRecord, verifierKey, type AuditQuery } from '../../src/audit/index.ts';
import { ORIGIN, testLog, type TestLog } from './support.ts';

// 13 records in segments of 4, one a minute from 2026-03-01T10:00Z: three clients, two subjects, tools on every third.
const START = Date.parse('2026-03-01T10:00:00.000Z');

describe('audit pages: newest first, filtered, with proofs', () => {
  let fixture: TestLog;

  before(async () => {
    let minute = 0;
    fixture = await testLog({ segmentMaxRecords: 4, now: () => new Date(START + minute * 60_000) });
    const log = await fixture.open();
    for (minute = 0; minute < 13; minute += 1) {
      await log.append(minute % 3 === 0
        ? { type: 'tool.executed', subject: `user-${minute % 2}`, client: `client-${minute % 3}`, tool: 'create_note' }
        : { type: 'login.succeeded', subject: `user-${minute % 2}`, client: `client-${minute % 3}` });
    }
    await log.close();
  });

  const seqs = async (query: AuditQuery, before?: number, limit = 50) => (await readPage(fixture.dir, query, { before, limit })).records.map((record) => record.seq);

  test('pages run newest first across segments, each handing the cursor of the next', async () => {
    const first = await readPage(fixture.dir, {}, { limit: 5 });
    assert.deepEqual(first.records.map((record) => record.seq), [12, 11, 10, 9, 8]);
    const second = await readPage(fixture.dir, {}, { before: first.next, limit: 5 });
    assert.deepEqual(second.records.map((record) => record.seq), [7, 6, 5, 4, 3]);
    const third = await readPage(fixture.dir, {}, { before: second.next, limit: 5 });
    assert.deepEqual(third.records.map((record) => record.seq), [2, 1, 0]);
    assert.equal(third.next, undefined);
  });

  test('each filter narrows the records: type, subject, client, tool and date range', async () => {
    assert.deepEqual(await seqs({ type: 'tool.executed' }), [12, 9, 6, 3, 0]);
    assert.deepEqual(await seqs({ subject: 'user-1' }), [11, 9, 7, 5, 3, 1]);
    assert.deepEqual(await seqs({ client: 'client-2' }), [11, 8, 5, 2]);
    assert.deepEqual(await seqs({ tool: 'create_note', subject: 'user-0' }), [12, 6, 0]);
    assert.deepEqual(await seqs({ from: new Date(START + 5 * 60_000), to: new Date(START + 7 * 60_000) }), [7, 6, 5]);
    assert.deepEqual(await seqs({ type: 'login.succeeded' }, 5, 2), [4, 2]);
    assert.deepEqual(await seqs({ subject: 'nobody' }), []);
  });

  test('date bounds are ISO dates or date-times in UTC, a bare day covering the whole day; anything else is refused', () => {
    assert.equal(parseDateBound('2026-01-31', 'start')?.toISOString(), '2026-01-31T00:00:00.000Z');
    assert.equal(parseDateBound('2026-01-31', 'end')?.toISOString(), '2026-01-31T23:59:59.999Z');
    assert.equal(parseDateBound('2026-01-31T12:00', 'end')?.toISOString(), '2026-01-31T12:00:00.000Z');
    assert.equal(parseDateBound('2026-01-31T12:00:00+02:00', 'start')?.toISOString(), '2026-01-31T10:00:00.000Z');
    for (const text of ['2026-02-30', '0', 'March 7', '2026-1-1', '2026-01-31T25:00']) assert.equal(parseDateBound(text, 'start'), undefined, text);
  });

  test('a page of an empty or missing log is empty', async () => {
    assert.deepEqual((await readPage(join(fixture.dir, 'none'), {}, { limit: 5 })).records, []);
    assert.equal(await readRecord(join(fixture.dir, 'none'), 0), undefined);
  });

  test('a record opens with an inclusion proof that verifies against the signed checkpoint', async () => {
    const key = verifierKey(ORIGIN, createPublicKey(fixture.key));
    assert.equal((await readRecord(fixture.dir, 7))?.event.subject, 'user-1');
    const checked = await proveAndCheck(fixture.dir, 7, key);
    assert.equal(checked.status, 'verified');
    assert.equal(checked.status === 'verified' && checked.proof.tree_size, 13);
    assert.equal((await proveAndCheck(fixture.dir, 13, key)).status, 'not_signed_yet');
  });

  test('a record changed on disk does not verify, and says why', async () => {
    const copy = await testLog();
    const log = await copy.open();
    for (let index = 0; index < 3; index += 1) await log.append({ type: 'login.succeeded', subject: `user-${index}` });
    await log.close();
    const segment = join(copy.dir, 'segment-000000000000.jsonl');
    await writeFile(segment, (await readFile(segment, 'utf8')).replace('user-1', 'user-7'));
    const checked = await proveAndCheck(copy.dir, 1, verifierKey(ORIGIN, createPublicKey(copy.key)));
    assert.equal(checked.status, 'failed');
    assert.match(checked.status === 'failed' ? checked.problem : '', /record 1 does not match its stored leaf hash/);
  });
});
