import { createHash } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/index.ts';
import { lockDirectory } from '../lock/index.ts';
import { decodeFrontier } from './check-record.ts';
import { dataEnd, listLogFiles, splitLines, syncDirectory, type LogFiles } from './files.ts';
import { AUDIT_LOCK_FILE, AuditLog, type AuditLogOptions } from './log.ts';
import { parseRecord } from './records.ts';
import { parseNote } from './signed-note.ts';
import { frontierAfter, safePrev, scanSegment } from './tail.ts';

export interface Recovery {
  /** The damaged segment, and the name it is kept under, unchanged. */
  segment: string;
  keptIn: string;
  /** Seq of the first record cut, and the `audit.recovered` record's own seq. */
  cutFromSeq: number;
  recoveredSeq: number;
  cutLines: number;
  cutBytes: number;
  /** Checkpoints that signed cut or conflicting records, kept aside under `set-aside-<name>`. */
  setAside: string[];
  /** SHA-256 of the cut bytes, hex. */
  sha256: string;
}

export const DAMAGED_PREFIX = 'damaged-';
export const SET_ASIDE_PREFIX = 'set-aside-';

/**
 * `portcullis audit recover`: the active segment is damaged (e.g. two writers, or an edit) with
 * records after the damage, so the server refuses to start. The segment is kept as it is under
 * `damaged-<name>`; its good records before the damage are copied byte for byte into a new
 * segment of the same name (hashes and signed roots unchanged); checkpoints that signed anything
 * else are set aside; and a signed `audit.recovered` record names what was cut, so `verify`
 * reports the gap instead of failing.
 */
export async function recoverLog(options: AuditLogOptions): Promise<Recovery> {
  const lock = lockDirectory({ dir: options.dir, file: AUDIT_LOCK_FILE, setting: 'AUDIT_DIR', what: 'its audit log' });
  let cut: Omit<Recovery, 'recoveredSeq'>;
  try {
    cut = await setDamageAside(options.dir, await listLogFiles(options.dir));
  } finally {
    lock.release();
  }
  const log = await AuditLog.open(options);
  try {
    const { seq } = await log.append({
      type: 'audit.recovered', segment: cut.segment, kept_in: cut.keptIn, cut_from_seq: cut.cutFromSeq, cut_lines: cut.cutLines, cut_bytes: cut.cutBytes,
      cut_sha256: cut.sha256, set_aside: cut.setAside,
    });
    await log.checkpoint();
    return { ...cut, recoveredSeq: seq };
  } finally {
    await log.close();
  }
}

async function setDamageAside(dir: string, files: LogFiles): Promise<Omit<Recovery, 'recoveredSeq'>> {
  const last = files.segments.at(-1);
  if (!last) throw new ConfigError('AUDIT_DIR', `no audit log in ${dir}`);
  const path = join(dir, last.name);
  const bytes = await readFile(path);
  const end = dataEnd(bytes);
  const { lines } = splitLines(bytes.toString('utf8', 0, end));
  const prev = lines.length > 0 ? safePrev(lines[0]!) : undefined;
  const start = prev ? decodeFrontier(prev) : await frontierAfter(dir, files.segments.at(-2), last.firstSeq);
  const scan = scanSegment(lines, last.firstSeq, start);
  if (scan.goodBytes === end) throw new ConfigError('AUDIT_DIR', `nothing to recover: ${last.name} ends with a good record (run portcullis audit verify to check the rest)`);
  const roots = await recordRoots(dir, files, scan.size);
  const setAside: string[] = [];
  for (const checkpoint of files.checkpoints) {
    const signed = await readFile(join(dir, checkpoint.name), 'utf8').then(parseNote).catch(() => undefined);
    if (signed && checkpoint.size <= scan.size && signed.checkpoint.size === checkpoint.size && signed.checkpoint.root.toString('base64') === roots.get(checkpoint.size)) continue;
    setAside.push(checkpoint.name);
  }
  const keptIn = `${DAMAGED_PREFIX}${last.name}`;
  const cutBytes = bytes.subarray(scan.goodBytes, end);
  await writeFile(`${path}.recovering`, bytes.subarray(0, scan.goodBytes), { mode: 0o600, flush: true });
  await rename(path, join(dir, keptIn));
  await chmod(join(dir, keptIn), 0o400);
  await rename(`${path}.recovering`, path);
  for (const name of setAside) await rename(join(dir, name), join(dir, `${SET_ASIDE_PREFIX}${name}`));
  await syncDirectory(dir);
  return {
    segment: last.name, keptIn, cutFromSeq: scan.size, cutLines: cutBytes.toString('utf8').split('\n').length - (cutBytes.at(-1) === 0x0a ? 1 : 0), cutBytes: cutBytes.length,
    sha256: createHash('sha256').update(cutBytes).digest('hex'), setAside,
  };
}

/** The signed root after each record up to `size` (unchecked: only compared with checkpoints). */
async function recordRoots(dir: string, files: LogFiles, size: number): Promise<Map<number, string>> {
  const roots = new Map<number, string>();
  for (const segment of files.segments) {
    for (const line of splitLines(await readFile(join(dir, segment.name), 'utf8')).lines) {
      const record = parseRecord(line);
      if (record && record.seq < size && !roots.has(record.seq + 1)) roots.set(record.seq + 1, record.root);
    }
  }
  return roots;
}
