import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** CPU time by kind of thread, in milliseconds. */
export interface CpuSplit {
  /** JavaScript: the main thread of each process. */
  mainThreads: number;
  /** libuv's thread pool: RS256 signatures (WebCrypto), file system calls. */
  threadPool: number;
  /** V8's helpers (garbage collection, compilation) and anything else. */
  other: number;
}

const CLOCK_TICK_MS = 10;

/**
 * CPU used so far by a process tree (a server and, under WORKERS, its workers), read from
 * /proc; undefined where there is no /proc (not Linux).
 */
export function cpuOfTree(rootPid: number): CpuSplit | undefined {
  try {
    const split: CpuSplit = { mainThreads: 0, threadPool: 0, other: 0 };
    for (const pid of [rootPid, ...childrenOf(rootPid)]) {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const ms = ticksOf(`/proc/${pid}/task/${tid}/stat`) * CLOCK_TICK_MS;
        if (tid === String(pid)) split.mainThreads += ms;
        else if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith('libuv-worker')) split.threadPool += ms;
        else split.other += ms;
      }
    }
    return split;
  } catch {
    return undefined;
  }
}

/** This process's CPU time (the load generator), in milliseconds. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export function cpuBetween(before: CpuSplit, after: CpuSplit): CpuSplit {
  return { mainThreads: after.mainThreads - before.mainThreads, threadPool: after.threadPool - before.threadPool, other: after.other - before.other };
}

/** CPU milliseconds per request of the two servers `compareLoad` drove, and of the load generator (this process) per request sent. */
export interface CpuPerRequest {
  a: CpuSplit;
  b: CpuSplit;
  loadGenerator: number;
}

/**
 * Meters two servers' process trees and this process from `start` (pass it as compareLoad's
 * `onWarm`) until `perRequest`. Both servers are counted over all rounds: the idle one's share
 * (timers) is small. Undefined where there is no /proc (not Linux).
 */
export function meterCpu(aPid: number, bPid: number) {
  let start: { a: CpuSplit | undefined; b: CpuSplit | undefined; own: number } | undefined;
  return {
    start(): void {
      start = { a: cpuOfTree(aPid), b: cpuOfTree(bPid), own: ownCpuMs() };
    },
    perRequest(aRequests: number, bRequests: number): CpuPerRequest | undefined {
      const [a, b, own] = [cpuOfTree(aPid), cpuOfTree(bPid), ownCpuMs()];
      if (!start?.a || !start.b || !a || !b) return undefined;
      return { a: divide(cpuBetween(start.a, a), aRequests), b: divide(cpuBetween(start.b, b), bRequests), loadGenerator: Number(((own - start.own) / (aRequests + bRequests)).toFixed(3)) };
    },
  };
}

/** Rounded to µs: the clock ticks are 10 ms, spread over thousands of requests. */
function divide(split: CpuSplit, by: number): CpuSplit {
  const per = (ms: number) => Number((ms / by).toFixed(3));
  return { mainThreads: per(split.mainThreads), threadPool: per(split.threadPool), other: per(split.other) };
}

/** `main threads 0.80, thread pool 0.97, other 0.13` (ms). */
export function formatCpu(split: CpuSplit): string {
  return `main threads ${split.mainThreads.toFixed(2)}, thread pool ${split.threadPool.toFixed(2)}, other ${split.other.toFixed(2)}`;
}

export function totalOf(split: CpuSplit): number {
  return split.mainThreads + split.threadPool + split.other;
}

export function coreCount(): number {
  return cpus().length;
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (statFields(`/proc/${entry}/stat`)[1] === String(pid)) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

function ticksOf(statFile: string): number {
  const fields = statFields(statFile);
  return Number(fields[11]) + Number(fields[12]);
}

/** The fields after the command name (which may hold spaces): state, ppid, ..., utime at 11, stime at 12. */
function statFields(statFile: string): string[] {
  const text = readFileSync(statFile, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}
