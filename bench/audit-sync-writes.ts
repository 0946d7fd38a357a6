/**
 * Does a synced audit append wait longer because it extends its file? Back-to-back synced writes
 * through libuv's thread pool, as the segment writer makes them, in four ways, taking turns in
 * rounds so drift in the machine's disk traffic hits all alike:
 * - extend O_SYNC: O_APPEND to a growing file (what main does);
 * - extend O_DSYNC: the same, data sync only (the new size must still be journaled);
 * - in place O_DSYNC: positional writes into space already written with zeros and synced;
 * - in place O_SYNC: the same with O_SYNC (the mtime change is then journaled on every write).
 * Prints each way's write latency p50 / p99 / max and how many writes took 10 ms or more, first on
 * its own, then while another process writes to the same file system (buffered writes with an
 * fsync every 16 MB, as other services' logs and databases do).
 * Run: flock /tmp/bench.lock ./node_modules/.bin/node bench/audit-sync-writes.ts [writes-per-way] [bytes-per-write]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './support/timing.ts';

export type Way = 'extend O_SYNC' | 'extend O_DSYNC' | 'in place O_DSYNC' | 'in place O_SYNC';
const WAYS: Way[] = ['extend O_SYNC', 'extend O_DSYNC', 'in place O_DSYNC', 'in place O_SYNC'];
const ROUNDS = 6;

interface Target {
  file: FileHandle;
  position: number;
  inPlace: boolean;
}

async function openTarget(dir: string, way: Way, bytes: number): Promise<Target> {
  const path = join(dir, way.replaceAll(' ', '-'));
  const inPlace = way.startsWith('in place');
  const sync = way.endsWith('O_DSYNC') ? constants.O_DSYNC : constants.O_SYNC;
  if (inPlace) {
    const zeros = await open(path, 'w');
    const chunk = Buffer.alloc(1024 * 1024);
    for (let written = 0; written < bytes; written += chunk.length) await zeros.write(chunk, 0, chunk.length, written);
    await zeros.sync();
    await zeros.close();
  }
  const flags = constants.O_WRONLY | constants.O_CREAT | sync | (inPlace ? 0 : constants.O_APPEND);
  return { file: await open(path, flags, 0o600), position: 0, inPlace };
}

async function timedWrites(target: Target, data: Buffer, count: number, into: number[]): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    const started = performance.now();
    if (target.inPlace) await target.file.write(data, 0, data.length, target.position);
    else await target.file.write(data);
    into.push(performance.now() - started);
    target.position += data.length;
  }
}

/** Each of `ways` (default all four) writes `writesPerWay` times, the ways taking turns in rounds; returns each write's latency in ms. */
export async function runSyncWrites(writesPerWay: number, bytesPerWrite: number, ways: readonly Way[] = WAYS): Promise<Partial<Record<Way, number[]>>> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-sync-writes-'));
  const data = Buffer.alloc(bytesPerWrite, 'x');
  data[bytesPerWrite - 1] = 0x0a;
  const latencies = Object.fromEntries(ways.map((way) => [way, [] as number[]])) as Record<Way, number[]>;
  const targets = new Map<Way, Target>();
  try {
    for (const way of ways) targets.set(way, await openTarget(dir, way, writesPerWay * bytesPerWrite + 1024 * 1024));
    const perRound = Math.ceil(writesPerWay / ROUNDS);
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = round % 2 === 0 ? ways : [...ways].reverse();
      for (const way of order) await timedWrites(targets.get(way)!, data, perRound, latencies[way]);
    }
    return latencies;
  } finally {
    for (const target of targets.values()) await target.file.close();
    await rm(dir, { recursive: true, force: true });
  }
}

type Load = 'data' | 'files';
const LOADS: Record<Load, string> = {
  data: '1 MB buffered writes, fsync every 16 MB',
  files: 'small files created, synced and removed, as test suites and package installs do',
};

/** Another process's disk traffic until killed. */
async function diskLoad(kind: Load): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-disk-load-'));
  process.once('SIGTERM', () => void rm(dir, { recursive: true, force: true }).finally(() => process.exit(0)));
  if (kind === 'data') {
    const file = await open(join(dir, 'load'), 'w');
    const chunk = Buffer.alloc(1024 * 1024, 'y');
    for (let written = 0; ; written += 1) {
      await file.write(chunk, 0, chunk.length, (written % 64) * chunk.length);
      if (written % 16 === 15) await file.sync();
    }
  }
  const chunk = Buffer.alloc(4096, 'z');
  for (let made = 0; ; made += 1) {
    const path = join(dir, `f${made % 256}`);
    const file = await open(path, 'w');
    await file.write(chunk);
    if (made % 8 === 7) await file.sync();
    await file.close();
    if (made % 256 === 255) { await rm(dir, { recursive: true, force: true }); await mkdir(dir); }
  }
}

function print(label: string, latencies: Partial<Record<Way, number[]>>): void {
  console.log(label);
  for (const way of WAYS) {
    const values = latencies[way] ?? [];
    const ms = (p: number) => percentile(values, p).toFixed(2).padStart(7);
    const slow = values.filter((value) => value >= 10).length;
    console.log(`  ${way.padEnd(18)} p50 ${ms(50)} ms   p99 ${ms(99)} ms   max ${ms(100)} ms   >=10 ms: ${slow}`);
  }
}

if (import.meta.main && process.argv[2] === 'disk-load') {
  await diskLoad(process.argv[3] as Load);
} else if (import.meta.main) {
  const [writes, bytes] = process.argv.slice(2).map(Number);
  const writesPerWay = writes || 1200;
  const bytesPerWrite = bytes || 2048;
  console.log(`synced writes of ${bytesPerWrite} bytes, ${writesPerWay} per way in ${ROUNDS} alternating rounds, Node ${process.version}`);
  print('alone:', await runSyncWrites(writesPerWay, bytesPerWrite));
  for (const [kind, description] of Object.entries(LOADS)) {
    const load = spawn(process.execPath, [import.meta.filename, 'disk-load', kind], { stdio: 'inherit' });
    try {
      print(`while another process writes (${description}):`, await runSyncWrites(writesPerWay, bytesPerWrite));
    } finally {
      const exited = once(load, 'exit');
      load.kill('SIGTERM');
      await exited;
    }
  }
}
