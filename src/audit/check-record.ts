import { appendLeaf, rootOf, type Hash } from './merkle.ts';
import { b64, parseRecord, recordLeaf, type AuditRecord } from './records.ts';

export type RecordCheck =
  | { ok: true; record: AuditRecord; frontier: Hash[] }
  | { ok: false; problem: string };

/** Checks one line as the record number `seq` of a tree whose frontier (before it) is `frontier`. */
export function checkRecord(line: string, seq: number, frontier: readonly Hash[]): RecordCheck {
  const record = parseRecord(line);
  if (!record) return { ok: false, problem: 'not a canonical audit record (bytes changed or line damaged)' };
  if (record.seq !== seq) return { ok: false, problem: `expected seq ${seq}, found seq ${record.seq} (a record is missing, duplicated or out of order)` };
  const leaf = recordLeaf(record);
  if (b64(leaf) !== record.leaf) return { ok: false, problem: 'the leaf hash does not match the record\'s content' };
  const next = appendLeaf(frontier, seq, leaf);
  if (b64(rootOf(next)) !== record.root) return { ok: false, problem: 'the tree root does not match the records before it' };
  return { ok: true, record, frontier: next };
}

export const decodeFrontier = (prev: readonly string[] | undefined): Hash[] => (prev ?? []).map((hash) => Buffer.from(hash, 'base64'));
