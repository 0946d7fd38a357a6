import type { KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/index.ts';
import { writeFileAtomic } from '../keys/index.ts';
import type { Logger } from '../log/index.ts';
import { canonicalJson } from './canonical-json.ts';
import { checkRecord, decodeFrontier } from './check-record.ts';
import { AuditUnavailableError, type AuditEvent, type AuditSink } from './events.ts';
import { listLogFiles, splitLines, syncDirectory } from './files.ts';
import { appendLeaf, rootOf, type Hash } from './merkle.ts';
import { b64, checkpointName, recordLeaf, segmentName, type AuditRecord } from './records.ts';
import { signCheckpoint } from './signed-note.ts';

export interface AuditLogOptions {
  dir: string;
  /** Checkpoint origin line and signing key name, e.g. auth.example.com/audit. */
  origin: string;
  signingKey: KeyObject;
  log: Logger;
  segmentMaxBytes?: number;
  segmentMaxRecords?: number;
  checkpointEveryRecords?: number;
  checkpointEverySeconds?: number;
  /** Told the name of each file that will never change again (sealed segments, checkpoints): the S3 shipper. */
  onImmutableFile?: (name: string) => void;
  now?: () => Date;
}

type ResolvedOptions = Required<Omit<AuditLogOptions, 'onImmutableFile'>> & Pick<AuditLogOptions, 'onImmutableFile'>;
type ActiveSegment = { name: string; records: number; bytes: number };

/**
 * Segments are opened O_SYNC: a write returns once its data is on disk, as write + fsync would,
 * but in one trip through libuv's thread pool (which token signing keeps busy).
 */
const SYNC_APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_SYNC;

interface Pending {
  event: AuditEvent;
  resolve(value: { seq: number }): void;
  reject(error: Error): void;
}

/**
 * The embedded audit log: append-only segment files of canonical JSON records, each carrying
 * the RFC 9162 tree head after it, and signed checkpoints. `append` resolves after fsync;
 * concurrent appends share one write and one fsync (group commit). One writer per directory.
 *
 * @example
 * const key = await loadAuditKey({ keysDir: './keys', fileName: 'audit-my-mcp-ed25519.pem' });
 * const audit = await AuditLog.open({ dir: './data/audit', origin: 'mcp.example.com/audit', signingKey: key.privateKey, log });
 * await audit.append({ type: 'tool.executed', tool: 'create_note' });
 */
export class AuditLog implements AuditSink {
  readonly dir: string;
  readonly #options: ResolvedOptions;
  #file: FileHandle;
  #segment: ActiveSegment;
  #frontier: Hash[];
  #size: number;
  #checkpointed: number;
  #pending: Pending[] = [];
  #checkpointWanted = false;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout;
  #closed = false;

  private constructor(options: ResolvedOptions, state: { file: FileHandle; segment: ActiveSegment; frontier: Hash[]; size: number; checkpointed: number }) {
    this.dir = options.dir;
    this.#options = options;
    this.#file = state.file;
    this.#segment = state.segment;
    this.#frontier = state.frontier;
    this.#size = state.size;
    this.#checkpointed = state.checkpointed;
    this.#timer = setInterval(() => {
      if (this.#size > this.#checkpointed) this.#wantCheckpoint();
    }, options.checkpointEverySeconds * 1000);
    this.#timer.unref();
  }

  /** Opens (or creates) the log in `dir`, cutting off a torn last record with a warning. */
  static async open(input: AuditLogOptions): Promise<AuditLog> {
    const options = {
      segmentMaxBytes: 64 * 1024 * 1024, segmentMaxRecords: 100_000, checkpointEveryRecords: 1000, checkpointEverySeconds: 60, now: () => new Date(), ...input,
    };
    try {
      await mkdir(options.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ConfigError('AUDIT_DIR', `cannot create ${options.dir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const files = await listLogFiles(options.dir);
    const state = await recoverTail(options.dir, files.segments, options.log);
    const file = await open(join(options.dir, state.segment.name), SYNC_APPEND, 0o600);
    if (state.created) await syncDirectory(options.dir);
    const log = new AuditLog(options, { file, segment: state.segment, frontier: state.frontier, size: state.size, checkpointed: files.checkpoints.at(-1)?.size ?? 0 });
    if (state.size > log.#checkpointed) log.#wantCheckpoint();
    return log;
  }

  /** Records in the log. */
  get size(): number {
    return this.#size;
  }

  append(event: AuditEvent): Promise<{ seq: number }> {
    if (this.#closed) return Promise.reject(new AuditUnavailableError('the audit log is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({ event, resolve, reject });
      this.#run();
    });
  }

  /** Writes a signed checkpoint now if records were added since the last one. */
  async checkpoint(): Promise<void> {
    this.#wantCheckpoint();
    await this.#settled();
  }

  /** Writes what is queued and a closing checkpoint; later appends are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#wantCheckpoint();
    await this.#settled();
    await this.#file.close();
  }

  /** Waits until no drain runs (one drain may start another for appends that came in meanwhile). */
  async #settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #wantCheckpoint(): void {
    this.#checkpointWanted = true;
    this.#run();
  }

  #run(): void {
    this.#running ??= this.#drain().catch((error: unknown) => {
      this.#options.log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'audit checkpoint failed');
    }).finally(() => {
      this.#running = undefined;
      if (this.#pending.length > 0) this.#run();
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0 || this.#checkpointWanted) {
      const batch = this.#pending.splice(0);
      if (batch.length > 0) await this.#writeBatch(batch);
      if (this.#checkpointWanted || this.#size - this.#checkpointed >= this.#options.checkpointEveryRecords) {
        this.#checkpointWanted = false;
        if (this.#size > this.#checkpointed) await this.#writeCheckpoint();
      }
    }
  }

  async #writeBatch(batch: Pending[]): Promise<void> {
    let rest = batch;
    while (rest.length > 0) {
      try {
        if (this.#segment.records >= this.#options.segmentMaxRecords || this.#segment.bytes >= this.#options.segmentMaxBytes) await this.#roll();
      } catch (error) {
        return failAll(rest, error);
      }
      const room = Math.max(1, this.#options.segmentMaxRecords - this.#segment.records);
      const chunk = rest.slice(0, room);
      rest = rest.slice(room);
      try {
        await this.#writeChunk(chunk);
      } catch (error) {
        return failAll([...chunk, ...rest], error);
      }
    }
  }

  async #writeChunk(chunk: Pending[]): Promise<void> {
    const time = this.#options.now().toISOString();
    let frontier = this.#frontier;
    let size = this.#size;
    const lines: string[] = [];
    for (const { event } of chunk) {
      const base = { seq: size, time, event };
      const leaf = recordLeaf(base);
      const before = frontier;
      frontier = appendLeaf(frontier, size, leaf);
      const record: AuditRecord = { ...base, leaf: b64(leaf), root: b64(rootOf(frontier)) };
      if (this.#segment.records === 0 && lines.length === 0) record.prev = before.map(b64);
      lines.push(canonicalJson(record));
      size += 1;
    }
    const data = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    try {
      await this.#file.write(data);
    } catch (error) {
      // Leave no half batch behind: these records were never acknowledged.
      await this.#file.truncate(this.#segment.bytes).catch(() => {});
      throw error;
    }
    const first = this.#size;
    this.#frontier = frontier;
    this.#size = size;
    this.#segment.records += chunk.length;
    this.#segment.bytes += data.length;
    chunk.forEach((pending, index) => pending.resolve({ seq: first + index }));
  }

  /** Seals the active segment (never written again) and starts the next one. */
  async #roll(): Promise<void> {
    const name = segmentName(this.#size);
    const next = await open(join(this.dir, name), SYNC_APPEND | constants.O_EXCL, 0o600);
    const sealed = this.#segment.name;
    await this.#file.close().catch(() => {});
    this.#file = next;
    this.#segment = { name, records: 0, bytes: 0 };
    await syncDirectory(this.dir);
    await chmod(join(this.dir, sealed), 0o400).catch(() => {});
    this.#options.onImmutableFile?.(sealed);
  }

  async #writeCheckpoint(): Promise<void> {
    const size = this.#size;
    const note = signCheckpoint({ origin: this.#options.origin, size, root: rootOf(this.#frontier) }, this.#options.origin, this.#options.signingKey);
    const name = checkpointName(size);
    await writeFileAtomic(join(this.dir, name), note);
    this.#checkpointed = size;
    this.#options.onImmutableFile?.(name);
  }
}

function failAll(batch: Pending[], error: unknown): void {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  for (const pending of batch) pending.reject(new AuditUnavailableError(`the audit log could not write (${reason})`));
}

interface Recovered {
  segment: ActiveSegment;
  frontier: Hash[];
  size: number;
  created: boolean;
}

/**
 * Reads the active (last) segment back. Anything after its last good record that is not itself a
 * good record is a write that was never acknowledged (torn by a crash): it is cut off, with a
 * warning. A bad record followed by good ones is damage, not a torn write: start-up stops.
 */
async function recoverTail(dir: string, segments: Array<{ name: string; firstSeq: number }>, log: Logger): Promise<Recovered> {
  if (segments.length === 0) {
    const name = segmentName(0);
    await (await open(join(dir, name), 'a', 0o600)).close();
    return { segment: { name, records: 0, bytes: 0 }, frontier: [], size: 0, created: true };
  }
  const last = segments.at(-1)!;
  const path = join(dir, last.name);
  const text = await readFile(path, 'utf8');
  const { lines } = splitLines(text);
  const prev = lines.length > 0 ? safePrev(lines[0]!) : undefined;
  let frontier = prev ? decodeFrontier(prev) : await frontierAfter(dir, segments.at(-2), last.firstSeq);
  let seq = last.firstSeq;
  let goodBytes = 0;
  let firstBad = -1;
  for (const [index, line] of lines.entries()) {
    const check = checkRecord(line, seq, frontier);
    if (!check.ok) {
      firstBad = index;
      break;
    }
    frontier = check.frontier;
    seq += 1;
    goodBytes += Buffer.byteLength(line, 'utf8') + 1;
  }
  if (firstBad >= 0) {
    const goodLater = lines.slice(firstBad + 1).some((line) => safeSeqIsAfter(line, seq));
    if (goodLater) throw new ConfigError('AUDIT_DIR', `${last.name} line ${firstBad + 1} is damaged and records follow it; run portcullis audit verify`);
  }
  const cutBytes = Buffer.byteLength(text, 'utf8') - goodBytes;
  if (cutBytes > 0) {
    await truncate(path, goodBytes);
    log.warn({ segment: last.name, bytes: cutBytes, keptRecords: seq - last.firstSeq }, 'audit log: cut off a torn last record (written, never acknowledged)');
  }
  return { segment: { name: last.name, records: seq - last.firstSeq, bytes: goodBytes }, frontier, size: seq, created: false };
}

function safePrev(line: string): string[] | undefined {
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
async function frontierAfter(dir: string, previous: { name: string; firstSeq: number } | undefined, expectedSize: number): Promise<Hash[]> {
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
