import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AuditUnavailableError, allEvents, verifyLog } from '../../src/audit/index.ts';
import { dataEnd, ORIGIN, loginEvent, testLog, type TestLog } from './support.ts';

const SEGMENT = 'segment-000000000000.jsonl';

/**
 * The real segment files, with a disk that can fill up: while `full`, a write stores half its
 * bytes (if `partial`) and fails with ENOSPC; while `truncateFails`, cutting the file back fails too.
 */
function fillableDisk() {
  const disk = { full: false, partial: false, truncateFails: false };
  const fail = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  const openSegment = async (path: string, flags: number, mode: number): Promise<FileHandle> => {
    const handle = await open(path, flags, mode);
    return new Proxy(handle, {
      get(target, property) {
        if (property === 'write') {
          return async (data: Buffer, offset: number, length: number, position: number) => {
            if (!disk.full) return target.write(data, offset, length, position);
            if (disk.partial) await target.write(data, offset, Math.floor(length / 2), position);
            throw fail('ENOSPC');
          };
        }
        if (property === 'truncate') {
          return async (length: number) => {
            if (disk.truncateFails) throw fail('EIO');
            return target.truncate(length);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return { disk, openSegment };
}

/** The segment's bytes up to the zeros written ahead of its appends. */
async function segmentData(fixture: TestLog): Promise<Buffer> {
  const bytes = await readFile(join(fixture.dir, SEGMENT));
  return bytes.subarray(0, dataEnd(bytes));
}

async function appendAll(log: { append: (event: ReturnType<typeof loginEvent>) => Promise<{ seq: number }> }, from: number, count: number) {
  return Promise.allSettled(Array.from({ length: count }, (_unused, index) => log.append(loginEvent(from + index))));
}

/** The log verifies, and holds the events of exactly these subjects, in order. */
async function assertVerifiedLogOf(fixture: TestLog, subjects: string[]) {
  const report = await verifyLog({ dir: fixture.dir, name: ORIGIN, publicKey: createPublicKey(fixture.key) });
  assert.equal(report.ok, true, JSON.stringify(report.failure));
  assert.deepEqual((await allEvents(fixture.dir)).map((record) => record.event.subject), subjects);
}

describe('a full disk under the audit log', () => {
  test('refuses appends while the disk is full, leaves no half record, and takes appends again once space returns, without a restart', async () => {
    const { disk, openSegment } = fillableDisk();
    const fixture = await testLog({ openSegment });
    const log = await fixture.open();
    assert.ok((await appendAll(log, 0, 3)).every((result) => result.status === 'fulfilled'));
    const dataBefore = await segmentData(fixture);
    Object.assign(disk, { full: true, partial: true });
    const refused = await appendAll(log, 3, 5);
    assert.ok(refused.every((result) => result.status === 'rejected' && result.reason instanceof AuditUnavailableError && /ENOSPC/.test(result.reason.message)));
    assert.deepEqual(await segmentData(fixture), dataBefore, 'the half-written batch was cut off');
    disk.full = false;
    const accepted = await appendAll(log, 8, 4);
    assert.deepEqual(accepted.map((result) => result.status === 'fulfilled' && result.value.seq), [3, 4, 5, 6]);
    await log.close();
    await assertVerifiedLogOf(fixture, ['user-0', 'user-1', 'user-2', 'user-8', 'user-9', 'user-10', 'user-11']);
  });

  test('appends nothing after bytes it cannot cut off: every append is refused until the cut succeeds, then the log goes on', async () => {
    const { disk, openSegment } = fillableDisk();
    const fixture = await testLog({ openSegment });
    const log = await fixture.open();
    await log.append(loginEvent(0));
    const goodSize = (await segmentData(fixture)).length;
    Object.assign(disk, { full: true, partial: true, truncateFails: true });
    await assert.rejects(log.append(loginEvent(1)), AuditUnavailableError);
    disk.full = false;
    await assert.rejects(log.append(loginEvent(2)), /the audit log cannot cut off a failed write \(EIO\); nothing is appended until it can/);
    const damaged = await segmentData(fixture);
    assert.ok(damaged.length > goodSize && damaged.at(-1) !== 0x0a, 'only the half record is there: nothing was appended after it');
    disk.truncateFails = false;
    assert.equal((await log.append(loginEvent(3))).seq, 1);
    await log.close();
    await assertVerifiedLogOf(fixture, ['user-0', 'user-3']);
  });

  test('refuses the appends serialised while a failing write was on its way to disk; the next append continues the tree from what is on disk', async () => {
    const { disk, openSegment } = fillableDisk();
    const fixture = await testLog({ openSegment });
    const log = await fixture.open();
    await log.append(loginEvent(0));
    Object.assign(disk, { full: true, partial: true });
    const failing = log.append(loginEvent(1));
    const behind = appendAll(log, 2, 3);
    await assert.rejects(failing, AuditUnavailableError);
    assert.ok((await behind).every((result) => result.status === 'rejected' && result.reason instanceof AuditUnavailableError));
    disk.full = false;
    assert.equal((await log.append(loginEvent(5))).seq, 1);
    await log.close();
    await assertVerifiedLogOf(fixture, ['user-0', 'user-5']);
  });
});
