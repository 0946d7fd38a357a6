import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { appendFile, cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { allEvents, recoverLog, verifyLog } from '../../src/audit/index.ts';
import { MAX_WRITE_BYTES } from '../../src/audit/files.ts';
import { silentLogger } from '../../src/log/index.ts';
import { captureLog } from '../support/captured-log.ts';
import { ORIGIN, loginEvent, testLog, type TestLog } from './support.ts';

const SEGMENT = 'segment-000000000000.jsonl';
const ZEROS = Buffer.alloc(1024 * 1024);

/** A closed log of `count` records, and the lines the next two appends would write (made in a copy of it). */
async function logWithNextLines(count: number): Promise<{ fixture: TestLog; next: string[] }> {
  const fixture = await testLog();
  let log = await fixture.open();
  for (let index = 0; index < count; index += 1) await log.append(loginEvent(index));
  await log.close();
  const copy = `${fixture.dir}-copy`;
  await cp(fixture.dir, copy, { recursive: true });
  log = await fixture.open({ dir: copy });
  for (let index = count; index < count + 2; index += 1) await log.append(loginEvent(index));
  await log.close();
  const next = (await readFile(join(copy, SEGMENT), 'utf8')).split('\n').slice(count, count + 2).map((line) => `${line}\n`);
  return { fixture, next };
}

async function assertVerifies(fixture: TestLog, lastSeq: number) {
  const report = await verifyLog({ dir: fixture.dir, name: ORIGIN, publicKey: createPublicKey(fixture.key) });
  assert.equal(report.ok, true, JSON.stringify(report.failure));
  assert.equal(report.lastSeq, lastSeq);
}

describe('zero-filled space after the records of the active segment', () => {
  test('is no record: the log verifies and reads as before, starts without a warning, appends after its records, and is cut off when the log closes', async () => {
    const { fixture } = await logWithNextLines(3);
    await appendFile(join(fixture.dir, SEGMENT), ZEROS);
    await assertVerifies(fixture, 2);
    assert.deepEqual((await allEvents(fixture.dir)).map((record) => record.event.subject), ['user-0', 'user-1', 'user-2']);

    const { log: logger, lines } = captureLog();
    const log = await fixture.open({ log: logger });
    assert.equal((await log.append(loginEvent(3))).seq, 3);
    await log.close();
    assert.equal(lines.filter((line) => line.level === 40).length, 0, 'no warning');
    const segment = await readFile(join(fixture.dir, SEGMENT));
    assert.equal(segment.at(-1), 0x0a, 'closed at its last record, no zeros');
    await assertVerifies(fixture, 3);
  });

  test('after a torn last record is cut off with it at start, and the log goes on', async () => {
    const { fixture, next } = await logWithNextLines(3);
    await appendFile(join(fixture.dir, SEGMENT), Buffer.concat([Buffer.from(next[0]!.slice(0, 40)), ZEROS]));
    const { log: logger, lines } = captureLog();
    const log = await fixture.open({ log: logger });
    assert.equal((await log.append(loginEvent(3))).seq, 3);
    await log.close();
    assert.ok(lines.some((line) => line.level === 40 && /torn last record/.test(String(line.msg))), 'a warning was logged');
    await assertVerifies(fixture, 3);
  });

  test('a last write that reached the disk in part (zeros where its pages were lost, an intact record after them) is cut off as a torn write', async () => {
    const { fixture, next } = await logWithNextLines(3);
    const [first, second] = next.map((line) => Buffer.from(line));
    const withLostPage = Buffer.from(first!).fill(0, 20, 60);
    await appendFile(join(fixture.dir, SEGMENT), Buffer.concat([withLostPage, second!, ZEROS]));
    const log = await fixture.open();
    assert.equal((await log.append(loginEvent(7))).seq, 3, 'the next append takes the first cut seq');
    await log.close();
    assert.deepEqual((await allEvents(fixture.dir)).map((record) => record.event.subject), ['user-0', 'user-1', 'user-2', 'user-7']);
    await assertVerifies(fixture, 3);
  });

  test('a damaged record with intact records after it still stops start-up: without zeros in it, or farther from the last good record than one write reaches', async () => {
    const { fixture, next } = await logWithNextLines(3);
    const path = join(fixture.dir, SEGMENT);
    const good = await readFile(path);
    const [first, second] = next.map((line) => Buffer.from(line));
    const edited = Buffer.from(first!);
    edited[30] = 0x41;
    await appendFile(path, Buffer.concat([edited, second!, ZEROS]));
    await assert.rejects(fixture.open(), /segment-000000000000\.jsonl line 4 is damaged and records follow it/);

    const withLostPage = Buffer.from(first!).fill(0, 20, 60);
    await writeFile(path, Buffer.concat([good, withLostPage, Buffer.alloc(MAX_WRITE_BYTES), Buffer.from('\n'), second!, ZEROS]));
    await assert.rejects(fixture.open(), /segment-000000000000\.jsonl line 4 is damaged and records follow it/);
  });

  test('recover finds nothing to cut in a segment that ends with a good record and zeros', async () => {
    const { fixture } = await logWithNextLines(2);
    await appendFile(join(fixture.dir, SEGMENT), ZEROS);
    await assert.rejects(recoverLog({ dir: fixture.dir, origin: ORIGIN, signingKey: fixture.key, log: silentLogger() }), /nothing to recover: segment-000000000000\.jsonl ends with a good record/);
  });
});
