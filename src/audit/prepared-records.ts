import type { AuditEvent } from './events.ts';
import { appendBinaryLeaf, binaryRootOf, type BinaryHash } from './merkle.ts';
import { recordWriter } from './records.ts';
import { TILE, tilesFrom } from './subtrees.ts';

/** A record serialised and hashed, waiting for its write. */
export interface PreparedRecord {
  seq: number;
  line: string;
  leaf: BinaryHash;
  /** The tree's frontier once this record is in it. */
  frontier: BinaryHash[];
  /** The record opens a new segment (the active one is full). */
  startsSegment: boolean;
  /** The stored subtrees (tiles) this record completes, level 1 first. */
  tiles: BinaryHash[] | undefined;
}

/** The tree and the active segment, as they are on disk or will be once every prepared record is written. */
export interface LogPosition {
  frontier: BinaryHash[];
  size: number;
  segmentRecords: number;
  segmentBytes: number;
}

/**
 * Turns events into segment lines ahead of the disk, so serialising and hashing the next records
 * overlaps the write of the previous ones. Positions advance as records are prepared; after a
 * failed write the log resets them to what is on disk.
 */
export class RecordPreparer {
  readonly #limits: { segmentMaxRecords: number; segmentMaxBytes: number };
  #next: LogPosition;

  constructor(limits: { segmentMaxRecords: number; segmentMaxBytes: number }, position: LogPosition) {
    this.#limits = limits;
    this.#next = { ...position };
  }

  reset(position: LogPosition): void {
    this.#next = { ...position };
  }

  /** Throws, changing nothing, for an event canonical JSON cannot hold. */
  prepare(event: AuditEvent, time: string): PreparedRecord {
    const next = this.#next;
    const record = recordWriter(next.size, time, event);
    const startsSegment = next.segmentRecords >= this.#limits.segmentMaxRecords || next.segmentBytes >= this.#limits.segmentMaxBytes;
    if (startsSegment) Object.assign(next, { segmentRecords: 0, segmentBytes: 0 });
    const merged = (next.size + 1) % TILE === 0 ? [] : undefined;
    const frontier = appendBinaryLeaf(next.frontier, next.size, record.leaf, merged);
    const line = `${record.line(record.leaf, binaryRootOf(frontier), next.segmentRecords === 0 ? next.frontier : undefined)}\n`;
    const prepared = { seq: next.size, line, leaf: record.leaf, frontier, startsSegment, tiles: merged && tilesFrom(merged) };
    next.frontier = frontier;
    next.size += 1;
    next.segmentRecords += 1;
    next.segmentBytes += Buffer.byteLength(line, 'utf8');
    return prepared;
  }
}

/** What written records add to the stored subtrees, per level (see SubtreeStore.appendLevels): their leaves, then the tiles they complete. */
export function subtreeLevels(records: readonly PreparedRecord[]): BinaryHash[] {
  const levels = [''];
  for (const record of records) {
    levels[0] += record.leaf;
    record.tiles?.forEach((tile, index) => {
      levels[index + 1] = (levels[index + 1] ?? '') + tile;
    });
  }
  return levels;
}
