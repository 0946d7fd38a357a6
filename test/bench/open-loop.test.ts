import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureOpenLoop } from '../../bench/support/open-loop.ts';

test('the open loop starts each request on schedule, without waiting for earlier answers', async () => {
  const count = 5;
  let started = 0;
  let releaseAll!: () => void;
  const allStarted = new Promise<void>((resolve) => { releaseAll = resolve; });
  // No answer comes before every request has been sent: a closed loop would never get there.
  const { run, latenciesMs } = await measureOpenLoop(count, 1000, async () => {
    started += 1;
    if (started === count) releaseAll();
    await allStarted;
  });
  assert.equal(started, count);
  assert.equal(run.operations, count);
  assert.equal(latenciesMs.length, count);
});

test('a request held up counts from its scheduled start', async () => {
  let releaseFirst!: () => void;
  const firstHeld = new Promise<void>((resolve) => { releaseFirst = resolve; });
  const order: number[] = [];
  const { latenciesMs } = await measureOpenLoop(3, 1000, async (index) => {
    if (index === 0) await firstHeld;
    order.push(index);
    if (index === 2) releaseFirst();
  });
  // The first answer came last, so its latency (from its scheduled start) is the largest.
  assert.deepEqual(order, [1, 2, 0]);
  assert.equal(Math.max(...latenciesMs), latenciesMs.at(-1));
});
