import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Lets perf name a child's JavaScript frames, with their files (interpreted ones too). */
export const PERF_NODE_OPTIONS = ['--perf-basic-prof-only-functions', '--interpreted-frames-native-stack'];

/** Samples per second of CPU time: one sample is about a millisecond of one thread's CPU. */
const FREQUENCY = 999;

export interface PerfRecording {
  stop(): Promise<void>;
}

/** `perf record -g` of every thread of `pid` into `file`; throws where perf cannot record (not installed, not allowed). */
export async function recordPerf(pid: number, file: string): Promise<PerfRecording> {
  const perf = spawn('perf', ['record', '-q', '-g', '-F', String(FREQUENCY), '-p', String(pid), '-o', file], { stdio: 'ignore' });
  const exited = once(perf, 'exit').catch(() => undefined);
  const failed = await Promise.race([once(perf, 'error').then(() => true), exited.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 1000))]);
  if (failed) throw new Error('perf cannot record here (is it installed, and perf_event_paranoid <= 2?)');
  return {
    async stop() {
      perf.kill('SIGINT');
      await exited;
    },
  };
}

/** CPU microseconds by thread kind and, within a kind, by what the time went to. */
export type CpuAttribution = Record<'main thread' | 'thread pool' | 'other threads', Map<string, number>>;

/**
 * Reads a recording: each sample of the main thread goes to GC when a collection is on its stack,
 * else to the innermost JavaScript frame of our code or of a package (node's internals, builtins
 * and native code are charged to that caller); thread-pool samples go by what the thread did.
 */
export async function attributePerf(file: string, options: { byFile?: boolean } = {}): Promise<CpuAttribution> {
  const attribution = emptyAttribution();
  const script = spawn('perf', ['script', '-i', file, '-F', 'comm,ip,sym'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let comm: string | undefined;
  let frames: string[] = [];
  const flush = () => {
    if (comm !== undefined) {
      const [kind, group] = classify(comm, frames, options.byFile ?? false);
      attribution[kind].set(group, (attribution[kind].get(group) ?? 0) + 1_000_000 / FREQUENCY);
    }
    comm = undefined;
    frames = [];
  };
  for await (const line of createInterface({ input: script.stdout })) {
    if (line.trim() === '') flush();
    else if (comm === undefined) comm = line.trim();
    else frames.push(line.trim().replace(/^[0-9a-f]+\s+/, ''));
  }
  flush();
  return attribution;
}

export function emptyAttribution(): CpuAttribution {
  return { 'main thread': new Map(), 'thread pool': new Map(), 'other threads': new Map() };
}

/** Adds `more` into `into`, kind by kind and group by group (several recordings of one load). */
export function addAttribution(into: CpuAttribution, more: CpuAttribution): CpuAttribution {
  for (const kind of Object.keys(more) as Array<keyof CpuAttribution>) {
    for (const [group, us] of more[kind]) into[kind].set(group, (into[kind].get(group) ?? 0) + us);
  }
  return into;
}

/**
 * Prints two attributions per unit of work (token, grant) side by side with their difference:
 * each thread kind's total, then its groups, the largest difference first.
 */
export function printPerUnit(unit: string, a: { label: string; cpu: CpuAttribution; units: number }, b: { label: string; cpu: CpuAttribution; units: number }): void {
  console.log(`${`µs of CPU per ${unit}`.padEnd(62)}${a.label.padStart(13)}${b.label.padStart(13)}${'difference'.padStart(12)}`);
  for (const kind of Object.keys(a.cpu) as Array<keyof CpuAttribution>) {
    const perUnit = (side: typeof a) => new Map([...side.cpu[kind]].map(([group, us]) => [group, us / side.units]));
    const [x, y] = [perUnit(a), perUnit(b)];
    const sum = (map: Map<string, number>) => [...map.values()].reduce((total, us) => total + us, 0);
    printRow(kind, sum(x), sum(y));
    const groups = [...new Set([...x.keys(), ...y.keys()])].sort((g, h) => ((x.get(h) ?? 0) - (y.get(h) ?? 0)) - ((x.get(g) ?? 0) - (y.get(g) ?? 0)));
    for (const group of groups.filter((name) => (x.get(name) ?? 0) + (y.get(name) ?? 0) >= 1)) printRow(`  ${group}`, x.get(group) ?? 0, y.get(group) ?? 0);
  }
}

/** One line of printPerUnit's table: a name, two figures and their difference. */
export function printRow(name: string, a: number, b: number): void {
  console.log(`${name.padEnd(62)}${a.toFixed(0).padStart(13)}${b.toFixed(0).padStart(13)}${`${a >= b ? '+' : ''}${(a - b).toFixed(0)}`.padStart(12)}`);
}

const GC = /v8::internal::(Heap::|Scavenger|MarkCompact|MinorMarkSweep|Sweeper|IncrementalMarking|ConcurrentMarking)/;
const KOA = /^(koa|koa-compose|@koa\/.*|delegates|vary|on-finished|ee-first|type-is|mime-types|media-typer|parseurl|statuses|content-type|http-errors|cookies|keygrip|accepts|negotiator|encodeurl|escape-html|fresh|only|destroy|path-to-regexp)$/;

function classify(comm: string, frames: string[], byFile: boolean): [keyof CpuAttribution, string] {
  if (comm.startsWith('libuv-worker')) return ['thread pool', poolGroup(frames)];
  if (comm !== 'MainThread' && comm !== 'node') return ['other threads', comm === 'V8Worker' ? 'V8 helpers (GC, compiler)' : comm];
  if (frames.some((frame) => GC.test(frame))) return ['main thread', 'GC'];
  for (const frame of frames) {
    const inPackage = /node_modules\/(((?:@[^/]+\/)?[^/]+)\/[^:\s]+)/.exec(frame);
    if (inPackage) return ['main thread', byFile ? inPackage[1]! : packageGroup(inPackage[2]!)];
    const ours = /file:\/\/\/\S*?\/((?:src|bench)\/[^:]+)/.exec(frame)?.[1];
    if (ours) return ['main thread', byFile ? ours : fileGroup(ours)];
  }
  return ['main thread', "node's HTTP and net internals, event loop, native code"];
}

function packageGroup(pkg: string): string {
  if (pkg === 'oidc-provider') return 'oidc-provider';
  if (pkg === 'jose') return 'jose (JWT assembly, WebCrypto call)';
  if (KOA.test(pkg)) return 'Koa, its helpers and routers';
  if (/^(ioredis|@ioredis\/.*|redis-parser|redis-errors|denque|cluster-key-slot|standard-as-callback|lodash\.\w+)$/.test(pkg)) return 'store';
  if (pkg.startsWith('pino') || pkg === 'sonic-boom') return 'log lines';
  if (pkg === 'prom-client') return 'metrics';
  return `package ${pkg}`;
}

function fileGroup(file: string): string {
  if (file.startsWith('src/audit/segment-')) return 'audit: hand-off to the thread pool';
  if (file.startsWith('src/audit/')) return 'audit: records prepared (canonical JSON, hashes)';
  if (file.includes('audit-trail')) return 'audit: token event';
  if (file.includes('rate-limits/') || file.includes('counters')) return 'rate limits';
  if (file.startsWith('src/metrics/') || file.includes('token-events')) return 'metrics';
  if (file.includes('request-log') || file.startsWith('src/log/')) return 'log lines';
  if (file.includes('security-headers')) return 'security headers';
  if (file.startsWith('src/storage/') || file.includes('adapter')) return 'store';
  if (file.startsWith('bench/')) return 'bench harness';
  return 'our other code (oidc-provider hooks, clients, HTTP helpers)';
}

function poolGroup(frames: string[]): string {
  const stack = frames.join('\n');
  if (/sys_pwrite64|sys_write|vfs_write/.test(stack)) return 'file writes (audit records, O_DSYNC)';
  if (/fdatasync|do_fsync/.test(stack)) return 'fsync';
  if (/^(bn_|BN_|mulx|sqrx|__bn|ossl_bn|RSA|rsa_)|mont|sqr8x|mul4x/.test(frames[0] ?? '')) return 'RSA signatures (bignum arithmetic)';
  if (/^(EVP_|OSSL_|ossl_|CRYPTO_|evp_|ERR_|sha256|SHA256)/.test(frames[0] ?? '')) return 'OpenSSL around the signatures';
  return 'waiting for work, locks, scheduling, other';
}
