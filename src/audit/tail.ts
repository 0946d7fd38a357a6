import { ConfigError } from '../config/index.ts';
import { checkRecord, decodeFrontier } from './check-record.ts';
import { join } from 'node:path';
import { MAX_WRITE_BYTES } from './files.ts';
import type { Hash } from './merkle.ts';
import { segmentLines } from './read-log.ts';
import { fileChunks } from './segment-lines.ts';
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
  const scan = await scanLastSegment(dir, segments);
  if (scan.goodLater && !(await isTornLastWrite(join(dir, last.name), scan))) {
    throw new ConfigError('AUDIT_DIR', `${last.name} line ${scan.firstBad + 1} is damaged and records follow it; run portcullis audit verify, then portcullis audit recover`);
  }
  const tornBytes = scan.dataBytes - scan.goodBytes;
  return { segment: { name: last.name, records: scan.size - last.firstSeq, bytes: scan.goodBytes }, frontier: scan.frontier, size: scan.size, created: false, tornBytes };
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
  /** A good record with a later seq follows the first bad line: damage, not a torn write. */
  goodLater: boolean;
  /** The file's size, and where its written data ends (reserved zero bytes excluded). */
  fileBytes: number;
  dataBytes: number;
}

/**
 * Checks the active (last) segment's lines in order, as a stream, stopping at the first that is
 * not the next good record; past it, only looks for a later good record. The tree state before
 * the segment is its first record's `prev`, or else the end of the segment before it.
 */
export async function scanLastSegment(dir: string, segments: Array<{ name: string; firstSeq: number }>): Promise<SegmentScan> {
  const last = segments.at(-1)!;
  const lines = segmentLines(dir, last);
  const startOf = async (line: string | undefined) => {
    const prev = line === undefined ? undefined : safePrev(line);
    return prev ? decodeFrontier(prev) : frontierAfter(dir, segments.at(-2), last.firstSeq);
  };
  let frontier: Hash[] | undefined;
  let seq = last.firstSeq;
  let goodBytes = 0;
  let index = -1;
  let bad: { index: number; problem: string } | undefined;
  let goodLater = false;
  for await (const line of lines) {
    index += 1;
    if (bad) {
      // Read on to the end all the same: the caller needs where the data ends.
      goodLater ||= safeSeqIsAfter(line, seq);
      continue;
    }
    frontier ??= await startOf(line);
    const check = checkRecord(line, seq, frontier);
    if (!check.ok) {
      bad = { index, problem: check.problem };
      continue;
    }
    frontier = check.frontier;
    seq += 1;
    goodBytes += Buffer.byteLength(line, 'utf8') + 1;
  }
  const found = { size: seq, frontier: frontier ?? await startOf(undefined), goodBytes, goodLater, fileBytes: lines.fileBytes, dataBytes: lines.dataBytes };
  return bad ? { ...found, firstBad: bad.index, problem: bad.problem } : { ...found, firstBad: -1 };
}

/**
 * What follows the last good record could be one write that reached the disk in part: the pages it
 * lost read as zeros, before records that did reach it.
 */
async function isTornLastWrite(path: string, scan: SegmentScan): Promise<boolean> {
  if (scan.dataBytes - scan.goodBytes > MAX_WRITE_BYTES) return false;
  for await (const chunk of fileChunks(path, { start: scan.goodBytes, end: scan.dataBytes })) if (chunk.includes(0)) return true;
  return false;
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
  let frontier: Hash[] | undefined;
  let seq = previous.firstSeq;
  for await (const line of segmentLines(dir, previous)) {
    frontier ??= decodeFrontier(safePrev(line));
    const check = checkRecord(line, seq, frontier);
    if (!check.ok) throw new ConfigError('AUDIT_DIR', `${previous.name} record ${seq} is damaged (${check.problem}); run portcullis audit verify`);
    frontier = check.frontier;
    seq += 1;
  }
  if (seq !== expectedSize) throw new ConfigError('AUDIT_DIR', `${previous.name} ends at seq ${seq - 1} but the next segment starts at ${expectedSize}`);
  return frontier ?? [];
}
