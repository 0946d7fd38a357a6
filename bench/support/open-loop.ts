import { setTimeout as sleep } from 'node:timers/promises';
import type { Measurement } from './timing.ts';

/**
 * Open loop: operation i is started at `start + i / ratePerSecond`, whether or not earlier ones
 * have answered, and its latency counts from that scheduled time, not from when it was actually
 * sent. A stall then shows in every request scheduled during it (no coordinated omission), and
 * the offered load does not fall when the server slows down, as a closed loop's does.
 */
export async function measureOpenLoop(count: number, ratePerSecond: number, operation: (index: number) => Promise<unknown>): Promise<{ run: Measurement; latenciesMs: number[] }> {
  const intervalMs = 1000 / ratePerSecond;
  const latenciesMs: number[] = [];
  const answered: Array<Promise<void>> = [];
  const start = performance.now();
  for (let index = 0; index < count; index += 1) {
    const scheduled = start + index * intervalMs;
    const early = scheduled - performance.now();
    if (early > 0) await sleep(early);
    answered.push(Promise.resolve(operation(index)).then(() => {
      latenciesMs.push(performance.now() - scheduled);
    }));
  }
  await Promise.all(answered);
  const milliseconds = performance.now() - start;
  return { run: { operations: count, milliseconds, opsPerSecond: Math.round(count / (milliseconds / 1000)), microsecondsPerOp: (milliseconds * 1000) / count }, latenciesMs };
}
