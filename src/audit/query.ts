import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { listLogFiles, segmentLines, segmentsInRange, type DateRange } from './read-log.ts';
import { SEGMENT_PATTERN, parseRecord, type AuditRecord } from './records.ts';

export interface AuditQuery extends DateRange {
  subject?: string | undefined;
  client?: string | undefined;
  tool?: string | undefined;
  type?: string | undefined;
}

/** The records that match, oldest first. Reads only the segments the date range can touch; checks nothing (that is `verify`). */
export async function* queryLog(dir: string, query: AuditQuery = {}): AsyncGenerator<AuditRecord> {
  const files = await listLogFiles(dir);
  const selected = await segmentsInRange(dir, files, query);
  if (!selected) return;
  for (let index = selected[0]; index <= selected[1]; index += 1) {
    for await (const line of segmentLines(dir, files.segments[index]!)) {
      const record = parseRecord(line);
      if (record && matches(record, query)) yield record;
    }
  }
}

export function matches(record: AuditRecord, query: AuditQuery): boolean {
  const time = Date.parse(record.time);
  return (!query.from || time >= query.from.getTime())
    && (!query.to || time <= query.to.getTime())
    && (!query.subject || record.event.subject === query.subject)
    && (!query.client || record.event.client === query.client)
    && (!query.tool || record.event.tool === query.tool)
    && (!query.type || record.event.type === query.type);
}

export async function allEvents(dir: string, query: AuditQuery = {}): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const record of queryLog(dir, query)) records.push(record);
  return records;
}

/**
 * The logs under an audit directory, by the name `--log` takes: '' for the directory's own, then
 * the ones beside it (the demo MCP server's `notes-mcp`, a cluster's `worker-1`, `worker-1/notes-mcp`).
 */
export async function logsUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const names = new Set(entries.filter((entry) => entry.isFile() && SEGMENT_PATTERN.test(entry.name)).map((entry) => relative(dir, entry.parentPath)));
  return [...names].sort((a, b) => a.length === 0 ? -1 : b.length === 0 ? 1 : a.localeCompare(b));
}

/** Records matching the query in each log under `dir`: what `audit query` shows without `--log`. */
export async function* queryLogs(dir: string, query: AuditQuery): AsyncGenerator<{ log: string; record: AuditRecord }> {
  for (const log of await logsUnder(dir)) {
    for await (const record of queryLog(join(dir, log), query)) yield { log, record };
  }
}
