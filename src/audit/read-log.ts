import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { listLogFiles, type LogFiles } from './files.ts';
import { parseRecord, recordLeaf } from './records.ts';
import { SegmentLines } from './segment-lines.ts';

/** A segment's lines, read a chunk at a time (`chunkBytes`: tests). */
export function segmentLines(dir: string, segment: { name: string }, chunkBytes?: number): SegmentLines {
  return new SegmentLines(join(dir, segment.name), chunkBytes);
}

/** The `time` of a segment's first record, without checking it; undefined for an empty or unreadable one. Reads the first line only. */
export async function segmentStartTime(dir: string, name: string): Promise<string | undefined> {
  const first = await firstLine(join(dir, name));
  try {
    const time = (JSON.parse(first) as { time?: unknown }).time;
    return typeof time === 'string' ? time : undefined;
  } catch {
    return undefined;
  }
}

const FIRST_LINE_CHUNK = 16 * 1024;
const FIRST_LINE_MAX = 1024 * 1024;

/** The text before the first newline (records are small; a longer "line" is damage, returned cut). */
async function firstLine(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    for (let position = 0; position < FIRST_LINE_MAX; position += FIRST_LINE_CHUNK) {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(FIRST_LINE_CHUNK), 0, FIRST_LINE_CHUNK, position);
      const chunk = buffer.subarray(0, bytesRead);
      const newline = chunk.indexOf(0x0a);
      chunks.push(newline < 0 ? chunk : chunk.subarray(0, newline));
      if (newline >= 0 || bytesRead < FIRST_LINE_CHUNK) break;
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await handle.close();
  }
}

export interface DateRange {
  from?: Date | undefined;
  to?: Date | undefined;
}

/** Indexes [first, last] of the segments whose records can fall within the range. */
export async function segmentsInRange(dir: string, files: LogFiles, range: DateRange): Promise<[number, number] | undefined> {
  const { segments } = files;
  if (segments.length === 0) return undefined;
  if (!range.from && !range.to) return [0, segments.length - 1];
  const starts = await Promise.all(segments.map((segment) => segmentStartTime(dir, segment.name)));
  const inRange = segments.map((_segment, index) => {
    const start = starts[index] ? Date.parse(starts[index]) : -Infinity;
    const nextStart = starts[index + 1] ? Date.parse(starts[index + 1]!) : Infinity;
    return (!range.to || start <= range.to.getTime()) && (!range.from || nextStart >= range.from.getTime());
  });
  const first = inRange.indexOf(true);
  return first < 0 ? undefined : [first, inRange.lastIndexOf(true)];
}

export { listLogFiles };

/** Leaf hashes of the records from `from` on, recomputed from the segments that hold them. */
export async function leafHashesFrom(dir: string, files: LogFiles, from: number): Promise<Buffer[]> {
  const leaves: Buffer[] = [];
  const firstIndex = Math.max(0, files.segments.findLastIndex((segment) => segment.firstSeq <= from));
  for (const segment of files.segments.slice(firstIndex)) {
    for await (const line of segmentLines(dir, segment)) {
      const record = parseRecord(line);
      if (!record) break;
      if (record.seq === from + leaves.length) leaves.push(recordLeaf(record));
    }
  }
  return leaves;
}
