import assert from 'node:assert/strict';
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createPublicKey } from 'node:crypto';
import { allEvents } from '../../src/audit/index.ts';
import { verifyLog } from '../../src/audit/verify.ts';
import { loginEvent, ORIGIN, testLog } from './support.ts';

/** Real segment files that tell, for each write of records (not of the zeros ahead of them), how many it held; a write reports back `turns` event loop turns late (a slow disk). */
function countingWrites(writes: number[], turns = 0) {
  return async (path: string, flags: number, mode: number): Promise<FileHandle> => {
    const handle = await open(path, flags, mode);
    return new Proxy(handle, {
      get(target, property) {
        if (property === 'write') {
          return async (data: Buffer, offset: number, length: number, position: number) => {
            const records = data.subarray(offset, offset + length).toString('utf8').split('\n').length - 1;
            if (records > 0) writes.push(records);
            const written = await target.write(data, offset, length, position);
            for (let turn = 0; turn < turns; turn += 1) await new Promise((resolve) => setImmediate(resolve));
            return written;
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

describe('audit log', () => {
  test('acknowledges appends with consecutive seqs, batches concurrent ones, and verifies', async () => {
    const fixture = await testLog({ segmentMaxRecords: 7, checkpointEveryRecords: 10 });
    const log = await fixture.open();
    const acks = await Promise.all(Array.from({ length: 25 }, (_, index) => log.append(loginEvent(index))));
    assert.deepEqual(acks.map((ack) => ack.seq), Array.from({ length: 25 }, (_, index) => index));
    await log.close();
    const names = await readdir(fixture.dir);
    assert.ok(names.filter((name) => name.startsWith('segment-')).length >= 4, names.join());
    assert.ok(names.includes('checkpoint-000000000025.note'), names.join());
    const report = await verifyLog({ dir: fixture.dir, name: ORIGIN, publicKey: createPublicKey(fixture.key) });
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.equal(report.lastSeq, 24);
    assert.equal(report.unsigned, 0);
  });

  test('commits appends that arrive during a write together, in one write', async () => {
    const writes: number[] = [];
    const fixture = await testLog({ openSegment: countingWrites(writes, 10) });
    const log = await fixture.open();
    await Promise.all(Array.from({ length: 50 }, (_, index) => log.append(loginEvent(index))));
    await log.close();
    // The first append is written alone; the 49 that queued behind it, all serialised before that write finished, together.
    assert.deepEqual(writes, [1, 49]);
    assert.equal((await allEvents(fixture.dir)).length, 50);
  });

  test('continues the same tree after a restart', async () => {
    const fixture = await testLog({ segmentMaxRecords: 4 });
    let log = await fixture.open();
    for (let index = 0; index < 6; index += 1) await log.append(loginEvent(index));
    await log.close();
    log = await fixture.open();
    assert.equal((await log.append(loginEvent(6))).seq, 6);
    await log.close();
    const report = await verifyLog({ dir: fixture.dir, name: ORIGIN, publicKey: createPublicKey(fixture.key) });
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.equal(report.checkpoints, 2);
  });

  test('writes canonical JSON lines with the leaf hash and the tree head', async () => {
    const fixture = await testLog();
    const log = await fixture.open();
    await log.append({ type: 'config.loaded', zeta: 1, alpha: 'a' });
    await log.close();
    const [line] = (await readFile(join(fixture.dir, 'segment-000000000000.jsonl'), 'utf8')).split('\n');
    assert.match(line!, /^\{"event":\{"alpha":"a","type":"config.loaded","zeta":1\},"leaf":"[^"]+","prev":\[\],"root":"[^"]+","seq":0,"time":"[^"]+"\}$/);
  });

  test('verifies and queries a date range from the middle of the log, anchored by the next checkpoint', async () => {
    let index = 0;
    // Five records a day at 12:00, 12:01, ...: one segment per day.
    const now = () => new Date(`2026-01-0${1 + Math.floor(index / 5)}T12:${String(index).padStart(2, '0')}:00Z`);
    const fixture = await testLog({ segmentMaxRecords: 5, checkpointEveryRecords: 8, now });
    const log = await fixture.open();
    for (; index < 15; index += 1) await log.append(loginEvent(index));
    await log.close();
    const publicKey = createPublicKey(fixture.key);
    const range = { from: new Date('2026-01-02T12:07:00Z'), to: new Date('2026-01-02T23:59:59Z') };
    const report = await verifyLog({ dir: fixture.dir, name: ORIGIN, publicKey, ...range });
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.equal(report.firstSeq, 5, 'starts at the day\'s segment, from the tree state it carries');
    assert.equal(report.checkpoints, 2, 'checkpoints 8 and 15 (the one that signs the day\'s last record)');
    const subjects = (await allEvents(fixture.dir, range)).map((record) => record.event.subject);
    assert.deepEqual(subjects, ['user-7', 'user-8', 'user-9']);
  });
});
