import { join } from 'node:path';
import { listLogFiles, segmentLines, segmentsInRange } from './read-log.ts';
import { linesBackward } from './segment-lines.ts';
import { matches, type AuditQuery } from './query.ts';
import { parseRecord, type AuditRecord } from './records.ts';

export interface PageRequest {
  /** Only records with a smaller seq: the cursor of the page before. */
  before?: number | undefined;
  /** Records on the page (at least 1). */
  limit: number;
}

export interface AuditPage {
  /** Newest first. */
  records: AuditRecord[];
  /** The `before` of the next (older) page; undefined on the last page. */
  next?: number;
}

/**
 * One page of matching records, newest first. Reads segment files from the newest back, one at a
 * time and each from its end a chunk at a time, and stops as soon as the page is full: a page
 * costs the segments it spans, and a filter that matches rarely can read every segment the date
 * range allows (each one once).
 */
export async function readPage(dir: string, query: AuditQuery, page: PageRequest): Promise<AuditPage> {
  const files = await listLogFiles(dir).catch(() => ({ segments: [], checkpoints: [] }));
  const selected = await segmentsInRange(dir, files, query);
  if (!selected) return { records: [] };
  const before = page.before ?? Number.POSITIVE_INFINITY;
  const last = Math.min(selected[1], files.segments.findLastIndex((segment) => segment.firstSeq < before));
  const found: AuditRecord[] = [];
  const needles = textsOf(query);
  for (let index = last; index >= selected[0]; index -= 1) {
    for await (const line of linesBackward(join(dir, files.segments[index]!.name))) {
      if (!needles.every((needle) => line.includes(needle))) continue;
      const record = parseRecord(line);
      if (!record || record.seq >= before || !matches(record, query)) continue;
      if (found.length === page.limit) return { records: found, next: found.at(-1)!.seq };
      found.push(record);
    }
  }
  return { records: found };
}

/** Texts a matching line must contain (canonical JSON has no spaces): most lines are skipped without parsing them. */
function textsOf(query: AuditQuery): string[] {
  return (['type', 'subject', 'client', 'tool'] as const).flatMap((field) => (query[field] ? [`"${field}":${JSON.stringify(query[field])}`] : []));
}

/** One record by its seq, as stored (unchecked); undefined when there is none. */
export async function readRecord(dir: string, seq: number): Promise<AuditRecord | undefined> {
  const files = await listLogFiles(dir).catch(() => ({ segments: [], checkpoints: [] }));
  const segment = files.segments.findLast((candidate) => candidate.firstSeq <= seq);
  if (!segment) return undefined;
  const seqText = `"seq":${seq},"time":`;
  for await (const line of segmentLines(dir, segment)) {
    if (!line.includes(seqText)) continue;
    const record = parseRecord(line);
    if (record?.seq === seq) return record;
  }
  return undefined;
}
