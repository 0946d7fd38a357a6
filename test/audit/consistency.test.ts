import assert from 'node:assert/strict';
import { readFile, readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { allEvents, checkConsistency, checkInclusionProof, proveConsistency, proveInclusion, verifierKey } from '../../src/audit/index.ts';
import { inclusionPath } from '../../src/audit/merkle.ts';
import { recordLeaf } from '../../src/audit/records.ts';
import { ORIGIN, loginEvent, testLog } from './support.ts';

async function filledLog(records: number, checkpointEveryRecords: number) {
  const fixture = await testLog({ checkpointEveryRecords, segmentMaxRecords: 250 });
  const log = await fixture.open();
  for (let start = 0; start < records; start += 50) {
    await Promise.all(Array.from({ length: Math.min(50, records - start) }, (_unused, index) => log.append(loginEvent(start + index))));
    await log.checkpoint();
  }
  await log.close();
  const sizes = (await readdir(fixture.dir)).flatMap((name) => /^checkpoint-(\d+)\.note$/.exec(name) ?? []).filter((_part, index) => index % 2 === 1).map(Number);
  return { fixture, sizes };
}

describe('RFC 9162 proofs from stored subtree hashes', () => {
  test('proves every checkpoint of a 600-record log consistent with every later one, checkable from the two notes alone', async () => {
    const { fixture, sizes } = await filledLog(600, 1000);
    assert.equal(sizes.length, 12);
    assert.equal((await stat(join(fixture.dir, 'tree-1.hashes'))).size, 2 * 32, 'two complete 256-leaf subtrees are stored');
    for (const oldSize of sizes) {
      for (const newSize of sizes.filter((size) => size >= oldSize)) {
        const proof = await proveConsistency(fixture.dir, oldSize, newSize);
        checkConsistency(proof.old_checkpoint, proof.new_checkpoint, proof.consistency_path);
      }
    }
  });

  test('a checkpoint of a forked log fails the consistency check', async () => {
    const [ours, theirs] = await Promise.all([filledLog(300, 1000), filledLog(300, 1000)]);
    const good = await proveConsistency(ours!.fixture.dir, 100, 300);
    const forked = await proveConsistency(theirs!.fixture.dir, 100, 300);
    assert.throws(() => checkConsistency(good.old_checkpoint, forked.new_checkpoint, forked.consistency_path), /does not extend the tree of 100 records: the log was forked or rewritten/);
  });

  test('inclusion proofs from the stored hashes equal the ones computed from every leaf, also while the hash files are missing, which the next start rebuilds', async () => {
    const { fixture } = await filledLog(600, 1000);
    const leaves = (await allEvents(fixture.dir)).map(recordLeaf);
    const key = verifierKey(ORIGIN, fixture.key);
    const check = async () => {
      for (const seq of [0, 1, 255, 256, 257, 511, 512, 599]) {
        const proof = await proveInclusion(fixture.dir, seq);
        assert.deepEqual(proof.inclusion_path, inclusionPath(leaves, seq).map((hash) => hash.toString('base64')));
        checkInclusionProof(proof, key);
      }
    };
    await check();
    await Promise.all((await readdir(fixture.dir)).filter((name) => name.endsWith('.hashes')).map((name) => rm(join(fixture.dir, name))));
    await check();
    await (await fixture.open()).close();
    assert.equal((await stat(join(fixture.dir, 'tree-0.hashes'))).size, 600 * 32);
  });

  test('the subtree hashes the writer stores as it appends equal the ones the next start rebuilds from the segments, up to a 65,536-leaf subtree', async () => {
    const records = 65_536 + 300;
    const fixture = await testLog({ segmentMaxRecords: 20_000 });
    const log = await fixture.open();
    let next = 0;
    await Promise.all(Array.from({ length: 256 }, async () => {
      while (next < records) await log.append(loginEvent(next++));
    }));
    await log.close();
    const names = (await readdir(fixture.dir)).filter((name) => name.endsWith('.hashes')).sort();
    assert.deepEqual(names, ['tree-0.hashes', 'tree-1.hashes', 'tree-2.hashes']);
    const written = await Promise.all(names.map((name) => readFile(join(fixture.dir, name))));
    assert.deepEqual(written.map((hashes) => hashes.length / 32), [records, 257, 1]);
    await Promise.all(names.map((name) => rm(join(fixture.dir, name))));
    await (await fixture.open()).close();
    const rebuilt = await Promise.all(names.map((name) => readFile(join(fixture.dir, name))));
    assert.deepEqual(rebuilt, written);
  });

  test('a subtree file left behind the level below it (a crash between their writes) is caught up at the next start, so later subtrees land in place', async () => {
    const { fixture } = await filledLog(600, 1000);
    await truncate(join(fixture.dir, 'tree-1.hashes'), 32);
    const log = await fixture.open();
    await Promise.all(Array.from({ length: 300 }, (_unused, index) => log.append(loginEvent(600 + index))));
    await log.close();
    const written = await readFile(join(fixture.dir, 'tree-1.hashes'));
    assert.equal(written.length, 3 * 32);
    await Promise.all((await readdir(fixture.dir)).filter((name) => name.endsWith('.hashes')).map((name) => rm(join(fixture.dir, name))));
    await (await fixture.open()).close();
    assert.deepEqual(await readFile(join(fixture.dir, 'tree-1.hashes')), written);
  });
});
