import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { appendFile, cp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { linesBackward, SegmentLines } from '../../src/audit/segment-lines.ts';
import { verifyLog, type VerifyOptions, type VerifyReport } from '../../src/audit/verify.ts';
import { ORIGIN, tempDir, testLog, type TestLog } from './support.ts';

// 60 records in segments of 25 (segment-0, -25, -50), a checkpoint every 10: each segment is
// several kilobytes, so reads of 64 and 1,000 bytes cut records apart, while the default chunk
// (1 MiB) takes each segment whole in one read, as the reader before chunks did.
const SEGMENT_25 = 'segment-000000000025.jsonl';
const SEGMENT_50 = 'segment-000000000050.jsonl';
const CHUNK_SIZES = [undefined, 1000, 64];

const event = (index: number) => ({ type: 'login.succeeded' as const, subject: `user-${index}`, client: 'client-a', note: `é€𝄞 ${'x'.repeat(index * 3)}` });

describe('audit verify reading segments in chunks smaller than a segment', () => {
  let original: TestLog;

  before(async () => {
    original = await testLog({ segmentMaxRecords: 25, checkpointEveryRecords: 10 });
    const log = await original.open();
    for (let index = 0; index < 60; index += 1) await log.append(event(index));
    await log.close();
    assert.ok((await stat(join(original.dir, SEGMENT_25))).size > 4 * 1000);
  });

  /** A changed copy of the log, verified whole and in chunks: every way gives the same report, which is returned. */
  async function verifyChanged(change: (dir: string) => Promise<void>, options: Partial<VerifyOptions> = {}): Promise<VerifyReport> {
    const dir = join(await tempDir(), 'audit');
    await cp(original.dir, dir, { recursive: true });
    await change(dir);
    const reports = [];
    for (const chunkBytes of CHUNK_SIZES) reports.push(await verifyLog({ dir, name: ORIGIN, publicKey: createPublicKey(original.key), ...options, ...(chunkBytes ? { chunkBytes } : {}) }));
    for (const report of reports.slice(1)) assert.deepEqual(report, reports[0]);
    return reports[0]!;
  }

  test('an intact log gives the same report whole and in chunks', async () => {
    const report = await verifyChanged(async () => {});
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.deepEqual([report.firstSeq, report.lastSeq, report.checkpoints, report.unsigned], [0, 59, 6, 0]);
  });

  test('a tampered record in the middle of a segment is named by the same line and seq', async () => {
    const report = await verifyChanged(async (dir) => {
      const path = join(dir, SEGMENT_25);
      const bytes = await readFile(path);
      const at = bytes.indexOf('"user-37"');
      bytes[at + 6] = '8'.charCodeAt(0);
      await writeFile(path, bytes);
    });
    assert.deepEqual({ ...report.failure, problem: undefined }, { file: SEGMENT_25, line: 13, seq: 37, problem: undefined });
    assert.match(report.failure!.problem, /leaf hash does not match/);
  });

  test('a torn last record is named at the same line, and is an append in progress on a live log', async () => {
    const tear = async (dir: string) => {
      const lines = (await readFile(join(dir, SEGMENT_25), 'utf8')).split('\n');
      await appendFile(join(dir, SEGMENT_50), lines[3]!.slice(0, 150));
    };
    const report = await verifyChanged(tear);
    assert.deepEqual({ ...report.failure, problem: undefined }, { file: SEGMENT_50, line: 11, problem: undefined });
    assert.match(report.failure!.problem, /last record is incomplete \(torn write/);
    assert.equal((await verifyChanged(tear, { live: true })).ok, true);
  });

  test('zero bytes reserved after the last record are neither a record nor a torn write, and a torn record before them still is', async () => {
    const reserved = await verifyChanged((dir) => appendFile(join(dir, SEGMENT_50), Buffer.alloc(5000)));
    assert.equal(reserved.ok, true, JSON.stringify(reserved.failure));
    assert.equal(reserved.lastSeq, 59);
    const torn = await verifyChanged((dir) => appendFile(join(dir, SEGMENT_50), Buffer.concat([Buffer.from('{"event":{"ty'), Buffer.alloc(5000)])));
    assert.deepEqual([torn.failure?.file, torn.failure?.line], [SEGMENT_50, 11]);
  });
});

describe('segment lines read in chunks', () => {
  const lines = Array.from({ length: 2000 }, (_, index) => JSON.stringify({ seq: index, text: `é€𝄞${'y'.repeat((index * 37) % 300)}` }));
  const longest = Math.max(...lines.map((line) => Buffer.byteLength(line)));

  async function segmentFile(tail: Buffer): Promise<string> {
    const path = join(await tempDir(), 'segment.jsonl');
    await writeFile(path, Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), tail]));
    return path;
  }

  test('the reader holds one chunk and the line being assembled, whatever the size of the file', async () => {
    const path = await segmentFile(Buffer.from('{"seq":2000,"te'));
    const reader = new SegmentLines(path, 64);
    const read: string[] = [];
    for await (const line of reader) read.push(line);
    assert.deepEqual(read, lines);
    assert.equal(reader.tail, '{"seq":2000,"te');
    assert.equal(reader.fileBytes, (await stat(path)).size);
    assert.ok(reader.fileBytes > 1000 * 64);
    assert.ok(reader.peakHeldBytes <= 64 + longest, `held ${reader.peakHeldBytes} bytes`);
  });

  test('zero bytes that end the file are not held, not a line and not a tail', async () => {
    const path = await segmentFile(Buffer.alloc(10_000));
    const reader = new SegmentLines(path, 64);
    let count = 0;
    for await (const _line of reader) count += 1;
    assert.deepEqual([count, reader.tail, reader.dataBytes, reader.fileBytes - reader.dataBytes], [2000, '', Buffer.byteLength(`${lines.join('\n')}\n`), 10_000]);
    assert.ok(reader.peakHeldBytes <= 64 + longest, `held ${reader.peakHeldBytes} bytes`);
  });

  test('read backward, the same lines come newest first, without the torn tail', async () => {
    const path = await segmentFile(Buffer.concat([Buffer.from('{"seq":2000,"te'), Buffer.alloc(300)]));
    const read: string[] = [];
    for await (const line of linesBackward(path, 64)) read.push(line);
    assert.deepEqual(read, lines.toReversed());
  });
});
