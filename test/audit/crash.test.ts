import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { allEvents, verifyLog } from '../../src/audit/index.ts';
import { recordLeaf } from '../../src/audit/records.ts';
import { captureLog } from '../support/captured-log.ts';
import { dataEnd, testLog } from './support.ts';

const CHILD = fileURLToPath(new URL('./fixtures/append-under-load.ts', import.meta.url));

/** Segment files, oldest first, each with its length and where its records end (zeros written ahead of the appends follow). */
async function segmentFiles(dir: string): Promise<Array<{ name: string; length: number; dataEnd: number }>> {
  const names = (await readdir(dir)).filter((name) => name.startsWith('segment-')).sort();
  return Promise.all(names.map(async (name) => {
    const bytes = await readFile(join(dir, name));
    return { name, length: bytes.length, dataEnd: dataEnd(bytes) };
  }));
}

async function activeSegmentHasZerosAhead(dir: string): Promise<boolean> {
  const active = (await segmentFiles(dir)).at(-1);
  return active !== undefined && active.dataEnd < active.length;
}

/**
 * Runs the appending child until it has printed `acks` acknowledgements and its active segment has
 * zeros written ahead of its records, then SIGKILLs it; returns seq -> id of every ack seen.
 */
function appendUntilKilled(dir: string, keyFile: string, acks: number): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, keyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    const seen = new Map<number, string>();
    let buffered = '';
    let looking = false;
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, seq, id] = line.split(' ');
        if (word === 'ack') seen.set(Number(seq), id!);
      }
      if (seen.size < acks || child.exitCode !== null || looking) return;
      looking = true;
      void activeSegmentHasZerosAhead(dir).then((ready) => {
        looking = false;
        if (ready && child.exitCode === null) child.kill('SIGKILL');
      }, reject);
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve(seen) : reject(new Error(`child ended without being killed (${signal})`))));
  });
}

describe('audit log crash safety', () => {
  test('every acknowledged record survives repeated SIGKILL under load while appends go into zero-filled space; appends go on, and sealed segments hold no zeros', async () => {
    const fixture = await testLog();
    const keyFile = join(fixture.dir, '..', 'audit-key.pem');
    await writeFile(keyFile, fixture.key.export({ type: 'pkcs8', format: 'pem' }));
    const acknowledged = new Map<number, string>();
    let killedWithZerosAhead = 0;
    for (let round = 0; round < 4; round += 1) {
      for (const [seq, id] of await appendUntilKilled(fixture.dir, keyFile, 150 + round * 37)) acknowledged.set(seq, id);
      if (await activeSegmentHasZerosAhead(fixture.dir)) killedWithZerosAhead += 1;
      for (const sealed of (await segmentFiles(fixture.dir)).slice(0, -1)) assert.equal(sealed.dataEnd, sealed.length, `${sealed.name} holds no zeros`);
    }
    assert.ok(killedWithZerosAhead > 0, 'a kill found zeros written ahead of the appends');
    const reopened = await fixture.open({ origin: 'crash.test/audit' });
    const size = reopened.size;
    assert.ok(size > Math.max(...acknowledged.keys()));
    assert.equal((await reopened.append({ type: 'tool.requested', tool: 'load', call: 'after-the-crashes' })).seq, size, 'appends go on after the last record');
    await reopened.close();
    for (const segment of await segmentFiles(fixture.dir)) assert.equal(segment.dataEnd, segment.length, `${segment.name} holds no zeros once closed`);
    const records = new Map((await allEvents(fixture.dir)).map((record) => [record.seq, record.event.call]));
    for (const [seq, id] of acknowledged) assert.equal(records.get(seq), id, `acknowledged seq ${seq}`);
    const report = await verifyLog({ dir: fixture.dir, name: 'crash.test/audit', publicKey: createPublicKey(fixture.key) });
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.ok((await readdir(fixture.dir)).filter((name) => name.startsWith('segment-')).length > 1, 'the load crossed segment boundaries');
  });

  test('a SIGKILL leaves the stored subtree hashes behind the log, never ahead, and the next start catches them up', async () => {
    const fixture = await testLog();
    const keyFile = join(fixture.dir, '..', 'audit-key.pem');
    await writeFile(keyFile, fixture.key.export({ type: 'pkcs8', format: 'pem' }));
    await appendUntilKilled(fixture.dir, keyFile, 450);
    const leaves = async () => Buffer.concat((await allEvents(fixture.dir)).map(recordLeaf));
    const allLeaves = await leaves();
    const stored = await readFile(join(fixture.dir, 'tree-0.hashes'));
    assert.ok(stored.length <= allLeaves.length, 'no hash of a record the log lacks');
    assert.deepEqual(stored, allLeaves.subarray(0, stored.length));
    await (await fixture.open({ origin: 'crash.test/audit' })).close();
    assert.deepEqual(await readFile(join(fixture.dir, 'tree-0.hashes')), await leaves());
  });

  test('a torn last record is cut off at start with a warning, and the log goes on', async () => {
    const fixture = await testLog();
    const log = await fixture.open();
    for (let index = 0; index < 3; index += 1) await log.append({ type: 'config.loaded', index });
    await log.close();
    await appendFile(join(fixture.dir, 'segment-000000000000.jsonl'), '{"event":{"type":"config.lo');
    const { log: logger, lines } = captureLog();
    const reopened = await fixture.open({ log: logger });
    assert.equal((await reopened.append({ type: 'config.loaded', index: 3 })).seq, 3);
    await reopened.close();
    assert.ok(lines.some((line) => line.level === 40 && /torn last record/.test(String(line.msg))), 'a warning was logged');
    const report = await verifyLog({ dir: fixture.dir, name: 'auth.test.example/audit', publicKey: createPublicKey(fixture.key) });
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.equal(report.lastSeq, 3);
  });
});
