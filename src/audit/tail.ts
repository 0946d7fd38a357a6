import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/index.ts';
import { checkRecord, decodeFrontier } from './check-record.ts';
import { dataEnd, MAX_WRITE_BYTES, splitLines } from './files.ts';
import type { Hash } from './merkle.ts';
import { segmentName } from './records.ts';

export interface ActiveSegment {
  name: string;
  records: number;
  bytes: number;
}

export interface LogTail {
  segment: ActiveSegment;
  frontier: Hash[];
  size: number;
  /** No segment yet: the first one is created when the log starts. */
  created: boolean;
  /** Bytes after the last good record of the active segment (a torn write), cut when the log starts; its zero-filled free space is not counted. */
  tornBytes: number;
}

/**
 * Reads the active (last) segment back, changing nothing. Anything after its last good record that
 * is not itself a good record is a write that was never acknowledged (torn by a crash): the log
 * cuts it off when it starts. A bad record followed by good ones is damage, not a torn write, and
 * start-up stops; unless the bad record has zeros in it and all of it lies within one write's
 * reach of the last good record: a power loss that kept some pages of the last write and not
 * others (the space it went into was zero-filled).
 */
export async function readTail(dir: string, segments: Array<{ name: string; firstSeq: number }>): Promise<LogTail> {
  if (segments.length === 0) {
    return { segment: { name: segmentName(0), records: 0, bytes: 0 }, frontier: [], size: 0, created: true, tornBytes: 0 };
  }
  const last = segments.at(-1)!;
  const path = join(dir, last.name);
  const bytes = await readFile(path);
  const end = dataEnd(bytes);
  const { lines } = splitLines(bytes.toString('utf8', 0, end));
  const prev = lines.length > 0 ? safePrev(lines[0]!) : undefined;
  const start = prev ? decodeFrontier(prev) : await frontierAfter(dir, segments.at(-2), last.firstSeq);
  const { firstBad, goodBytes, size: seq, frontier } = scanSegment(lines, last.firstSeq, start);
  if (firstBad >= 0) {
    const goodLater = lines.slice(firstBad + 1).some((line) => safeSeqIsAfter(line, seq));
    if (goodLater && !isTornLastWrite(bytes.subarray(goodBytes, end))) throw new ConfigError('AUDIT_DIR', `${last.name} line ${firstBad + 1} is damaged and records follow it; run portcullis audit verify, then portcullis audit recover`);
  }
  const tornBytes = end - goodBytes;
  return { segment: { name: last.name, records: seq - last.firstSeq, bytes: goodBytes }, frontier, size: seq, created: false, tornBytes };
}

export interface SegmentScan {
  /** Tree size and frontier after the last good record. */
  size: number;
  frontier: Hash[];
  /** Bytes of the good records, from the start of the segment. */
  goodBytes: number;
  /** Index of the first line that is not the next good record; -1 when every line is. */
  firstBad: number;
  problem?: string;
}

/** Checks a segment's lines in order from `firstSeq`, stopping at the first that is not the next good record. */
export function scanSegment(lines: string[], firstSeq: number, start: Hash[]): SegmentScan {
  let frontier = start;
  let seq = firstSeq;
  let goodBytes = 0;
  for (const [index, line] of lines.entries()) {
    const check = checkRecord(line, seq, frontier);
    if (!check.ok) return { size: seq, frontier, goodBytes, firstBad: index, problem: check.problem };
    frontier = check.frontier;
    seq += 1;
    goodBytes += Buffer.byteLength(line, 'utf8') + 1;
  }
  return { size: seq, frontier, goodBytes, firstBad: -1 };
}

/** What follows the last good record could be one write that reached the disk in part: the pages it lost read as zeros. */
function isTornLastWrite(afterGood: Buffer): boolean {
  return afterGood.length <= MAX_WRITE_BYTES && afterGood.includes(0);
}

export function safePrev(line: string): string[] | undefined {
  try {
    return (JSON.parse(line) as { prev?: string[] }).prev;
  } catch {
    return undefined;
  }
}

function safeSeqIsAfter(line: string, seq: number): boolean {
  try {
    return (JSON.parse(line) as { seq?: number }).seq! > seq;
  } catch {
    return false;
  }
}

/** The frontier at the end of the sealed segment before an empty active one. */
export async function frontierAfter(dir: string, previous: { name: string; firstSeq: number } | undefined, expectedSize: number): Promise<Hash[]> {
  if (!previous) return [];
  const { lines } = splitLines(await readFile(join(dir, previous.name), 'utf8'));
  let frontier = decodeFrontier(safePrev(lines[0] ?? ''));
  let seq = previous.firstSeq;
  for (const line of lines) {
    const check = checkRecord(line, seq, frontier);
    if (!check.ok) throw new ConfigError('AUDIT_DIR', `${previous.name} record ${seq} is damaged (${check.problem}); run portcullis audit verify`);
    frontier = check.frontier;
    seq += 1;
  }
  if (seq !== expectedSize) throw new ConfigError('AUDIT_DIR', `${previous.name} ends at seq ${seq - 1} but the next segment starts at ${expectedSize}`);
  return frontier;
}
