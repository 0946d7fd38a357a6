import { createHash } from 'node:crypto';
import { chmod, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/index.ts';
import { lockDirectory } from '../lock/index.ts';
import { listLogFiles, syncDirectory, type LogFiles } from './files.ts';
import { AUDIT_LOCK_FILE, AuditLog, type AuditLogOptions } from './log.ts';
import { segmentLines } from './read-log.ts';
import { parseRecord } from './records.ts';
import { fileChunks } from './segment-lines.ts';
import { parseNote } from './signed-note.ts';
import { scanLastSegment } from './tail.ts';

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
  const scan = await scanLastSegment(dir, files.segments);
  if (scan.goodBytes === scan.dataBytes) throw new ConfigError('AUDIT_DIR', `nothing to recover: ${last.name} ends with a good record (run portcullis audit verify to check the rest)`);
  const roots = await rootsAt(dir, files, new Set(files.checkpoints.map((checkpoint) => checkpoint.size).filter((size) => size <= scan.size)));
  const setAside: string[] = [];
  for (const checkpoint of files.checkpoints) {
    const signed = await readFile(join(dir, checkpoint.name), 'utf8').then(parseNote).catch(() => undefined);
    if (signed && checkpoint.size <= scan.size && signed.checkpoint.size === checkpoint.size && signed.checkpoint.root.toString('base64') === roots.get(checkpoint.size)) continue;
    setAside.push(checkpoint.name);
  }
  const keptIn = `${DAMAGED_PREFIX}${last.name}`;
  const cut = await describeBytes(path, scan.goodBytes, scan.dataBytes);
  await copyStart(path, `${path}.recovering`, scan.goodBytes);
  await rename(path, join(dir, keptIn));
  await chmod(join(dir, keptIn), 0o400);
  await rename(`${path}.recovering`, path);
  for (const name of setAside) await rename(join(dir, name), join(dir, `${SET_ASIDE_PREFIX}${name}`));
  await syncDirectory(dir);
  return { segment: last.name, keptIn, cutFromSeq: scan.size, cutLines: cut.lines, cutBytes: cut.bytes, sha256: cut.sha256, setAside };
}

/** The signed root after each record whose count is in `sizes` (unchecked: only compared with checkpoints). */
async function rootsAt(dir: string, files: LogFiles, sizes: Set<number>): Promise<Map<number, string>> {
  const roots = new Map<number, string>();
  for (const segment of files.segments) {
    for await (const line of segmentLines(dir, segment)) {
      const record = parseRecord(line);
      if (record && sizes.has(record.seq + 1) && !roots.has(record.seq + 1)) roots.set(record.seq + 1, record.root);
    }
  }
  return roots;
}

/** Lines, size and SHA-256 of the bytes from `start` to `end` of a file. */
async function describeBytes(path: string, start: number, end: number): Promise<{ lines: number; bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let newlines = 0;
  let lastByte: number | undefined;
  for await (const chunk of fileChunks(path, { start, end })) {
    hash.update(chunk);
    for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) newlines += 1;
    lastByte = chunk.at(-1);
  }
  // A last line without its newline counts too.
  return { lines: newlines + (lastByte !== undefined && lastByte !== 0x0a ? 1 : 0), bytes: end - start, sha256: hash.digest('hex') };
}

/** A new file (flushed to disk) holding the first `bytes` bytes of `from`. */
async function copyStart(from: string, to: string, bytes: number): Promise<void> {
  const file = await open(to, 'w', 0o600);
  try {
    for await (const chunk of fileChunks(from, { end: bytes })) {
      for (let written = 0; written < chunk.length;) written += (await file.write(chunk, written)).bytesWritten;
    }
    await file.sync();
  } finally {
    await file.close();
  }
}
