export interface Measurement {
  operations: number;
  milliseconds: number;
  opsPerSecond: number;
  /** Mean cost of one operation, in microseconds. */
  microsecondsPerOp: number;
}

/** Runs `operation` for each index in [0, count) one after another and measures the whole run. */
export async function measure(count: number, operation: (index: number) => Promise<unknown>): Promise<Measurement> {
  const start = process.hrtime.bigint();
  for (let index = 0; index < count; index += 1) await operation(index);
  const milliseconds = Number(process.hrtime.bigint() - start) / 1e6;
  return {
    operations: count,
    milliseconds,
    opsPerSecond: Math.round(count / (milliseconds / 1000)),
    microsecondsPerOp: (milliseconds * 1000) / count,
  };
}

export function formatOps(value: number): string {
  return value.toLocaleString('en-US').padStart(12);
}

/** One measurement from several runs of the same operation. */
export function combine(runs: readonly Measurement[]): Measurement {
  const operations = runs.reduce((sum, run) => sum + run.operations, 0);
  const milliseconds = runs.reduce((sum, run) => sum + run.milliseconds, 0);
  return {
    operations,
    milliseconds,
    opsPerSecond: Math.round(operations / (milliseconds / 1000)),
    microsecondsPerOp: (milliseconds * 1000) / operations,
  };
}

/** Runs `operation` for each index in [0, count) with at most `concurrency` in flight and measures the whole run. */
export async function measureConcurrent(count: number, concurrency: number, operation: (index: number) => Promise<unknown>): Promise<Measurement> {
  const start = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < count) await operation(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const milliseconds = Number(process.hrtime.bigint() - start) / 1e6;
  return { operations: count, milliseconds, opsPerSecond: Math.round(count / (milliseconds / 1000)), microsecondsPerOp: (milliseconds * 1000) / count };
}

/** measureConcurrent that also keeps each operation's latency; returns the run and its p99 in ms. */
export async function measureConcurrentLatency(count: number, concurrency: number, operation: (index: number) => Promise<unknown>): Promise<{ run: Measurement; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  const run = await measureConcurrent(count, concurrency, async (index) => {
    const started = performance.now();
    await operation(index);
    latenciesMs.push(performance.now() - started);
  });
  return { run, latenciesMs };
}

/** The p-th percentile (0-100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
