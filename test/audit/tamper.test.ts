import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { cp, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { canonicalJson } from '../../src/audit/canonical-json.ts';
import { verifyLog, type VerifyReport } from '../../src/audit/verify.ts';
import { appendLeaf, rootOf, type Hash } from '../../src/audit/merkle.ts';
import { b64, recordLeaf, type AuditRecord } from '../../src/audit/records.ts';
import { signCheckpoint } from '../../src/audit/signed-note.ts';
import { loginEvent, ORIGIN, tempDir, testLog, type TestLog } from './support.ts';

// 20 records in segments of 5 (segment-0, -5, -10, -15), checkpoints at 4, 8, 12, 16 and 20.
const SEGMENT_5 = 'segment-000000000005.jsonl';

describe('audit verify on a tampered log', () => {
  let original: TestLog;

  before(async () => {
    original = await testLog({ segmentMaxRecords: 5, checkpointEveryRecords: 4 });
    const log = await original.open();
    for (let index = 0; index < 20; index += 1) await log.append(loginEvent(index));
    await log.close();
  });

  /** A copy of the log with `tamper` applied, verified. */
  async function verifyTampered(tamper: (dir: string) => Promise<void>): Promise<VerifyReport> {
    const dir = join(await tempDir(), 'audit');
    await cp(original.dir, dir, { recursive: true });
    await tamper(dir);
    return verifyLog({ dir, name: ORIGIN, publicKey: createPublicKey(original.key) });
  }

  const editLines = (file: string, edit: (lines: string[]) => string[]) => async (dir: string) => {
    const lines = (await readFile(join(dir, file), 'utf8')).split('\n').slice(0, -1);
    await writeFile(join(dir, file), `${edit(lines).join('\n')}\n`);
  };

  test('an untouched log verifies', async () => {
    const report = await verifyTampered(async () => {});
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.deepEqual([report.firstSeq, report.lastSeq, report.checkpoints, report.unsigned], [0, 19, 5, 0]);
  });

  test('a flipped byte is named by segment, line and seq', async () => {
    const report = await verifyTampered(async (dir) => {
      const path = join(dir, SEGMENT_5);
      const bytes = await readFile(path);
      const at = bytes.indexOf('user-6');
      bytes.writeUInt8(bytes[at + 5]! ^ 0x01, at + 5); // user-6 -> user-7
      await writeFile(path, bytes);
    });
    assert.equal(report.ok, false);
    assert.deepEqual({ ...report.failure, problem: undefined }, { file: SEGMENT_5, line: 2, seq: 6, problem: undefined });
    assert.match(report.failure!.problem, /leaf hash does not match/);
  });

  test('a deleted record is named', async () => {
    const report = await verifyTampered(editLines(SEGMENT_5, (lines) => lines.filter((_line, index) => index !== 2)));
    assert.deepEqual([report.failure?.file, report.failure?.line, report.failure?.seq], [SEGMENT_5, 3, 7]);
    assert.match(report.failure!.problem, /expected seq 7, found seq 8/);
  });

  test('two reordered records are named', async () => {
    const report = await verifyTampered(editLines(SEGMENT_5, ([a, b, c, ...rest]) => [a!, c!, b!, ...rest]));
    assert.deepEqual([report.failure?.file, report.failure?.line, report.failure?.seq], [SEGMENT_5, 2, 6]);
    assert.match(report.failure!.problem, /expected seq 6, found seq 7/);
  });

  test('a truncated sealed segment is named by the gap after it', async () => {
    const report = await verifyTampered(editLines(SEGMENT_5, (lines) => lines.slice(0, 2)));
    assert.equal(report.failure?.file, 'segment-000000000010.jsonl');
    assert.match(report.failure!.problem, /previous segment ends at seq 6 but this one starts at 10/);
  });

  test('records cut from the end of the last segment are caught by the checkpoint that signed them', async () => {
    const report = await verifyTampered(async (dir) => {
      const path = join(dir, 'segment-000000000015.jsonl');
      const text = await readFile(path, 'utf8');
      await truncate(path, text.split('\n').slice(0, 3).join('\n').length + 1);
    });
    assert.equal(report.failure?.file, 'segment-000000000015.jsonl');
    assert.match(report.failure!.problem, /checkpoint-000000000020\.note signed 20 records but the log ends after 18/);
  });

  test('a segment replaced by a consistently re-hashed forgery fails at the first checkpoint after it', async () => {
    const report = await verifyTampered(async (dir) => forgeFrom(dir, 5, (event) => ({ ...event, subject: 'someone-else' })));
    assert.equal(report.failure?.file, 'checkpoint-000000000008.note');
    assert.match(report.failure!.problem, /records seq 4\.\.7 after checkpoint-000000000004\.note .*were changed or replaced after they were signed/);
  });

  test('a checkpoint re-signed with another key is refused as signed by a key the log never vouched for', async () => {
    const report = await verifyTampered(async (dir) => {
      await forgeFrom(dir, 5, (event) => ({ ...event, subject: 'someone-else' }));
      const { privateKey } = generateKeyPairSync('ed25519');
      const segment = (await readFile(join(dir, 'segment-000000000005.jsonl'), 'utf8')).split('\n');
      const eighth = JSON.parse(segment[2]!) as AuditRecord;
      await writeFile(join(dir, 'checkpoint-000000000008.note'), signCheckpoint({ origin: ORIGIN, size: 8, root: Buffer.from(eighth.root, 'base64') }, [{ name: ORIGIN, key: privateKey }]));
    });
    assert.equal(report.failure?.file, 'checkpoint-000000000008.note');
    assert.equal(report.failure?.kind, 'unvouched');
    assert.match(report.failure!.problem, /a key this log never vouched for/);
  });
});

/** Rewrites every record from segment `firstSeq` on with `change`, recomputing leaves, roots and carried state as the log would. */
async function forgeFrom(dir: string, firstSeq: number, change: (event: AuditRecord['event']) => AuditRecord['event']): Promise<void> {
  let frontier: Hash[] | undefined;
  for (let start = firstSeq; start < 20; start += 5) {
    const path = join(dir, `segment-${String(start).padStart(12, '0')}.jsonl`);
    const records = (await readFile(path, 'utf8')).split('\n').slice(0, -1).map((line) => JSON.parse(line) as AuditRecord);
    frontier ??= records[0]!.prev!.map((hash) => Buffer.from(hash, 'base64'));
    const lines = records.map((record, index) => {
      const base = { seq: record.seq, time: record.time, event: start === firstSeq ? change(record.event) : record.event };
      const leaf = recordLeaf(base);
      const prev = index === 0 ? frontier!.map(b64) : undefined;
      frontier = appendLeaf(frontier!, record.seq, leaf);
      return canonicalJson({ ...base, leaf: b64(leaf), root: b64(rootOf(frontier)), prev });
    });
    await writeFile(path, `${lines.join('\n')}\n`);
  }
}
