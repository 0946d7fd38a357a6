import autocannon from 'autocannon';

export interface LoadRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface LoadMeasurement {
  requestsPerSecond: number;
  requests: number;
  seconds: number;
  latencyMsP50: number;
  latencyMsP99: number;
}

/** Drives one server with autocannon for `seconds`; any non-2xx answer or connection error fails the run. */
export async function runLoad(request: LoadRequest, options: { seconds: number; connections: number }): Promise<LoadMeasurement> {
  const result = await autocannon({
    url: request.url,
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    connections: options.connections,
    duration: options.seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${request.method} ${request.url}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  }
  return {
    requestsPerSecond: Math.round(result.requests.total / result.duration),
    requests: result.requests.total,
    seconds: result.duration,
    latencyMsP50: result.latency.p50,
    latencyMsP99: result.latency.p99,
  };
}

/** Several rounds of the same load as one measurement. */
export function combineLoad(rounds: readonly LoadMeasurement[]): LoadMeasurement {
  const requests = rounds.reduce((sum, round) => sum + round.requests, 0);
  const seconds = rounds.reduce((sum, round) => sum + round.seconds, 0);
  const mean = (pick: (round: LoadMeasurement) => number) => Number((rounds.reduce((sum, round) => sum + pick(round), 0) / rounds.length).toFixed(2));
  return { requestsPerSecond: Math.round(requests / seconds), requests, seconds, latencyMsP50: mean((round) => round.latencyMsP50), latencyMsP99: mean((round) => round.latencyMsP99) };
}

/**
 * Measures `a` and `b` in alternating rounds (a b, b a, ...) so drift in CPU speed or load on a
 * shared machine hits both alike. Returns both and a/b in requests per second. `onWarm` is called
 * (and awaited) once both are warm, when the measured rounds start.
 */
export async function compareLoad(a: LoadRequest, b: LoadRequest, options: { rounds: number; seconds: number; connections: number; onWarm?: () => void | Promise<void> }) {
  const runsA: LoadMeasurement[] = [];
  const runsB: LoadMeasurement[] = [];
  // Warm both up (JIT, caches, keep-alive connections) before anything counts.
  await runLoad(a, { seconds: 1, connections: options.connections });
  await runLoad(b, { seconds: 1, connections: options.connections });
  await options.onWarm?.();
  for (let round = 0; round < options.rounds; round += 1) {
    const order = round % 2 === 0 ? [[a, runsA], [b, runsB]] as const : [[b, runsB], [a, runsA]] as const;
    for (const [request, runs] of order) runs.push(await runLoad(request, options));
  }
  const measuredA = combineLoad(runsA);
  const measuredB = combineLoad(runsB);
  return { a: measuredA, b: measuredB, ratio: Number((measuredA.requestsPerSecond / measuredB.requestsPerSecond).toFixed(3)) };
}
