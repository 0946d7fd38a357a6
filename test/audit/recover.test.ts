import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { recoverLog, verifyLog } from '../../src/audit/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { ORIGIN, loginEvent, testLog } from './support.ts';

const SEGMENT = 'segment-000000000000.jsonl';

describe('audit recover', () => {
  test('after two writers interleaved one segment, it keeps the damaged segment unchanged, records what was cut, and the log starts and verifies again', async () => {
    const fixture = await testLog();
    let log = await fixture.open();
    for (let index = 0; index < 6; index += 1) await log.append(loginEvent(index));
    await log.close();
    // A second writer from the same state, as a second process on the same directory once did.
    const twin = { ...fixture, dir: `${fixture.dir}-twin` };
    await cp(fixture.dir, twin.dir, { recursive: true });
    for (const dir of [fixture.dir, twin.dir]) {
      log = await fixture.open({ dir });
      for (let index = 0; index < 3; index += 1) await log.append({ ...loginEvent(index), writer: dir === twin.dir ? 'twin' : 'first' });
      await log.close();
    }
    const [ours, theirs] = await Promise.all([fixture.dir, twin.dir].map(async (dir) => (await readFile(join(dir, SEGMENT), 'utf8')).split('\n')));
    const mixed = [...ours!.slice(0, 6), ...[6, 7, 8].flatMap((index) => [ours![index]!, theirs![index]!]), ''].join('\n');
    await writeFile(join(fixture.dir, SEGMENT), mixed);
    await cp(join(twin.dir, 'checkpoint-000000000009.note'), join(fixture.dir, 'checkpoint-000000000009.note'));

    await assert.rejects(fixture.open(), /segment-000000000000\.jsonl line 8 is damaged and records follow it; run portcullis audit verify, then portcullis audit recover/);
    const result = await recoverLog({ dir: fixture.dir, origin: ORIGIN, signingKey: fixture.key, log: silentLogger() });
    assert.deepEqual(
      { cutFromSeq: result.cutFromSeq, cutLines: result.cutLines, recoveredSeq: result.recoveredSeq, keptIn: result.keptIn, setAside: result.setAside },
      { cutFromSeq: 7, cutLines: 5, recoveredSeq: 7, keptIn: `damaged-${SEGMENT}`, setAside: ['checkpoint-000000000009.note'] },
    );
    assert.equal(await readFile(join(fixture.dir, `damaged-${SEGMENT}`), 'utf8'), mixed, 'the damaged segment is kept byte for byte');
    assert.ok((await readdir(fixture.dir)).includes('set-aside-checkpoint-000000000009.note'));

    log = await fixture.open();
    assert.equal((await log.append(loginEvent(99))).seq, 8);
    await log.close();
    const report = await verifyLog({ dir: fixture.dir, name: ORIGIN, publicKey: createPublicKey(fixture.key) });
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.equal(report.lastSeq, 8);
    const [recovered] = report.handovers;
    assert.equal(recovered?.type, 'audit.recovered');
    assert.equal(recovered.seq, 7);
    assert.equal(recovered.event.cut_lines, 5);
  });

  test('refuses a log whose active segment ends with a good record, changing nothing', async () => {
    const fixture = await testLog();
    const log = await fixture.open();
    await log.append(loginEvent(0));
    await log.close();
    const before = await readdir(fixture.dir);
    await assert.rejects(recoverLog({ dir: fixture.dir, origin: ORIGIN, signingKey: fixture.key, log: silentLogger() }), /nothing to recover: segment-000000000000\.jsonl ends with a good record/);
    assert.deepEqual(await readdir(fixture.dir), before);
  });
});
