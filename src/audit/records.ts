import { canonicalJson } from './canonical-json.ts';
import type { AuditEvent } from './events.ts';
import { binaryLeafHash, leafHash, type BinaryHash, type Hash } from './merkle.ts';

/**
 * One line of a segment: canonical JSON of {seq, time, event, leaf, root[, prev]}.
 * `leaf` is the RFC 9162 leaf hash of canonical {event, seq, time}; `root` the tree head after
 * this record (tree size seq + 1); `prev`, on a segment's first record only, is the frontier
 * before it, so a segment can be checked without reading the ones before it.
 */
export interface AuditRecord {
  seq: number;
  time: string;
  event: AuditEvent;
  leaf: string;
  root: string;
  prev?: string[];
}

export function leafData(record: Pick<AuditRecord, 'seq' | 'time' | 'event'>): string {
  return canonicalJson({ event: record.event, seq: record.seq, time: record.time });
}

export function recordLeaf(record: Pick<AuditRecord, 'seq' | 'time' | 'event'>): Hash {
  return leafHash(leafData(record));
}

export const b64 = (hash: Hash) => hash.toString('base64');

/**
 * The writer's fast path: the same bytes as canonicalJson of the record and of its leaf data,
 * with the event (the bulk of a record) serialised once for both. Keys in canonical order.
 */
export function recordWriter(seq: number, time: string, event: AuditEvent) {
  const head = `{"event":${canonicalJson(event)}`;
  const tail = `"seq":${seq},"time":${JSON.stringify(time)}}`;
  return {
    leaf: binaryLeafHash(`${head},${tail}`),
    line: (leaf: BinaryHash, root: BinaryHash, prev?: BinaryHash[]) =>
      `${head},"leaf":"${btoa(leaf)}",${prev ? `"prev":${JSON.stringify(prev.map((hash) => btoa(hash)))},` : ''}"root":"${btoa(root)}",${tail}`,
  };
}

/** Parses a line; undefined when it is not a canonical record (damaged, torn or edited). */
export function parseRecord(line: string): AuditRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const record = value as AuditRecord;
  if (!record || typeof record !== 'object' || !Number.isSafeInteger(record.seq) || typeof record.time !== 'string'
    || !record.event || typeof record.event !== 'object' || typeof record.leaf !== 'string' || typeof record.root !== 'string') return undefined;
  if (canonicalJson(record) !== line) return undefined;
  return record;
}

export const SEGMENT_PATTERN = /^segment-(\d{12})\.jsonl$/;
export const CHECKPOINT_PATTERN = /^checkpoint-(\d{12})\.note$/;
export const segmentName = (firstSeq: number) => `segment-${String(firstSeq).padStart(12, '0')}.jsonl`;
export const checkpointName = (size: number) => `checkpoint-${String(size).padStart(12, '0')}.note`;
