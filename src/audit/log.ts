import { createPublicKey, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/index.ts';
import { writeFileAtomic } from '../keys/index.ts';
import { lockDirectory, type DirectoryLock } from '../lock/index.ts';
import type { Logger } from '../log/index.ts';
import { canonicalJson } from './canonical-json.ts';
import { AuditUnavailableError, type AuditEvent, type AuditSink } from './events.ts';
import { listLogFiles, syncDirectory } from './files.ts';
import { checkIdentity, type Handover } from './identity.ts';
import { appendLeaf, rootOf, type Hash } from './merkle.ts';
import { b64, checkpointName, recordLeaf, segmentName, type AuditRecord } from './records.ts';
import { signCheckpoint, verifierKey, type NoteSigner } from './signed-note.ts';
import { leafHashesFrom } from './read-log.ts';
import { SubtreeStore } from './subtrees.ts';
import { readTail, type ActiveSegment } from './tail.ts';

export interface AuditLogOptions {
  dir: string;
  /** Checkpoint origin line and signing key name, e.g. auth.example.com/audit. */
  origin: string;
  signingKey: KeyObject;
  /** The setting the key came from, named when it does not sign this log. Default KEYS_DIR. */
  keySetting?: string;
  log: Logger;
  segmentMaxBytes?: number;
  segmentMaxRecords?: number;
  checkpointEveryRecords?: number;
  checkpointEverySeconds?: number;
  /** Told the name of each file that will never change again (sealed segments, checkpoints): the S3 shipper. */
  onImmutableFile?: (name: string) => void;
  now?: () => Date;
  /** `audit rotate-key --old-key-lost`: record that the key that signed the log is gone. */
  oldKeyLost?: boolean;
  /** Opens segment files; tests pass one that fails like a full disk. */
  openSegment?: (path: string, flags: number, mode: number) => Promise<FileHandle>;
}

type ResolvedOptions = Required<Omit<AuditLogOptions, 'onImmutableFile' | 'keySetting' | 'oldKeyLost'>> & Pick<AuditLogOptions, 'onImmutableFile'>;

/**
 * Segments are opened O_SYNC: a write returns once its data is on disk, as write + fsync would,
 * but in one trip through libuv's thread pool (which token signing keeps busy).
 */
const SYNC_APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_SYNC;
export const AUDIT_LOCK_FILE = 'writer.lock';

interface Pending {
  event: AuditEvent;
  resolve(value: { seq: number }): void;
  reject(error: Error): void;
}

interface OpenState {
  lock: DirectoryLock;
  segment: ActiveSegment;
  frontier: Hash[];
  size: number;
  checkpointed: number;
  created: boolean;
  tornBytes: number;
  handover: Handover | undefined;
}

/**
 * The embedded audit log: append-only segment files of canonical JSON records, each carrying
 * the RFC 9162 tree head after it, and signed checkpoints. `append` resolves after fsync;
 * concurrent appends share one write and one fsync (group commit). One writer per directory,
 * held by an OS lock. `prepare` reads and locks without writing; `start` is the first write.
 */
export class AuditLog implements AuditSink {
  readonly dir: string;
  readonly #options: ResolvedOptions;
  readonly #lock: DirectoryLock;
  #signingKey: KeyObject;
  /** Signers besides the current key for the next checkpoint: the old identity during a handover. */
  #coSigners: { signers: NoteSigner[]; after: number } | undefined;
  #file: FileHandle | undefined;
  #segment: ActiveSegment;
  #frontier: Hash[];
  #size: number;
  #checkpointed: number;
  #pending: Pending[] = [];
  #checkpointWanted = false;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started: Promise<void> | undefined;
  #closed = false;
  /** A failed write left bytes after this offset that could not be cut yet: nothing is appended until they are. */
  #damagedAt: number | undefined;
  #startState: Pick<OpenState, 'created' | 'tornBytes' | 'handover'>;
  /** Derived subtree hashes for proofs; dropped (rebuilt at the next start) if writing them fails. */
  #subtrees: SubtreeStore | undefined;

  private constructor(options: ResolvedOptions, state: OpenState) {
    this.dir = options.dir;
    this.#options = options;
    this.#lock = state.lock;
    this.#signingKey = options.signingKey;
    this.#segment = state.segment;
    this.#frontier = state.frontier;
    this.#size = state.size;
    this.#checkpointed = state.checkpointed;
    this.#startState = state;
  }

  /** Opens (or creates) the log in `dir` and starts it. */
  static async open(input: AuditLogOptions): Promise<AuditLog> {
    const log = await AuditLog.prepare(input);
    try {
      await log.start();
    } catch (error) {
      await log.close();
      throw error;
    }
    return log;
  }

  /**
   * Locks `dir` and reads the log's state, writing nothing: a start-up that fails later leaves the
   * log as it was. Appends wait until `start`.
   */
  static async prepare(input: AuditLogOptions): Promise<AuditLog> {
    const options = {
      segmentMaxBytes: 64 * 1024 * 1024, segmentMaxRecords: 100_000, checkpointEveryRecords: 1000, checkpointEverySeconds: 60, now: () => new Date(),
      openSegment: open, ...input,
    };
    try {
      await mkdir(options.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ConfigError('AUDIT_DIR', `cannot create ${options.dir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const lock = lockDirectory({ dir: options.dir, file: AUDIT_LOCK_FILE, setting: 'AUDIT_DIR', what: 'its audit log' });
    try {
      const files = await listLogFiles(options.dir);
      const tail = await readTail(options.dir, files.segments);
      const handover = await checkIdentity({
        dir: options.dir, files, origin: options.origin, key: options.signingKey, keySetting: input.keySetting ?? 'KEYS_DIR', oldKeyLost: input.oldKeyLost ?? false,
      });
      return new AuditLog(options, { lock, ...tail, checkpointed: files.checkpoints.at(-1)?.size ?? 0, handover });
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** The first write: cuts a torn last record, creates the first segment, records an origin change, then takes appends. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    if (this.#closed) throw new AuditUnavailableError('the audit log is closed');
    const { created, tornBytes, handover } = this.#startState;
    const path = join(this.dir, this.#segment.name);
    if (tornBytes > 0) {
      await truncate(path, this.#segment.bytes);
      this.#options.log.warn({ segment: this.#segment.name, bytes: tornBytes, keptRecords: this.#segment.records }, 'audit log: cut off a torn last record (written, never acknowledged)');
    }
    this.#file = await this.#options.openSegment(path, SYNC_APPEND, 0o600);
    if (created) await syncDirectory(this.dir);
    this.#subtrees = await SubtreeStore.open(this.dir, this.#size, {
      writable: true, missing: async (from) => leafHashesFrom(this.dir, await listLogFiles(this.dir), from),
    }).catch((error: unknown) => this.#dropSubtrees(error));
    this.#timer = setInterval(() => {
      if (this.#size > this.#checkpointed) this.#wantCheckpoint();
    }, this.#options.checkpointEverySeconds * 1000);
    this.#timer.unref();
    if (handover) {
      await this.#handOver(handover);
      this.#options.log.warn({ event: handover.event }, `audit log: recorded ${handover.event.type}`);
    } else if (this.#size > this.#checkpointed || this.#pending.length > 0) {
      this.#wantCheckpoint();
    }
  }

  /** Records an identity change first, and the checkpoint after it signed by the old identity too. */
  async #handOver(handover: Handover): Promise<void> {
    await this.#settled();
    // Nothing is being written now, so the handover gets seq #size; the first checkpoint past it is co-signed.
    this.#coSigners = { signers: handover.coSigners, after: this.#size };
    const recorded = new Promise<{ seq: number }>((resolve, reject) => this.#pending.unshift({ event: handover.event, resolve, reject }));
    this.#wantCheckpoint();
    await recorded;
    await this.#settled();
  }

  /** Records `audit.key_rotated` and signs the checkpoint after it with both keys; later checkpoints use `next` only. */
  async rotateKey(next: KeyObject): Promise<void> {
    await this.start();
    const origin = this.#options.origin;
    const old = this.#signingKey;
    this.#signingKey = next;
    await this.#handOver({
      event: { type: 'audit.key_rotated', from_key: verifierKey(origin, old), to_key: verifierKey(origin, next) },
      coSigners: [{ name: origin, key: old }],
    });
  }

  /** Records in the log. */
  get size(): number {
    return this.#size;
  }

  /** The verifier key of the key that signs new checkpoints. */
  get verifierKey(): string {
    return verifierKey(this.#options.origin, createPublicKey(this.#signingKey));
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

  /** Writes what is queued and a closing checkpoint; later appends are refused. Never started: writes nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#started?.catch(() => {});
    if (this.#file) {
      this.#wantCheckpoint();
      await this.#settled();
      await this.#file.close();
    }
    failAll(this.#pending.splice(0), new AuditUnavailableError('the audit log is closed'));
    this.#subtrees?.close();
    this.#lock.release();
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
    if (!this.#file) return;
    this.#running ??= this.#drain().catch((error: unknown) => {
      this.#options.log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'audit checkpoint failed');
    }).finally(() => {
      this.#running = undefined;
      if (this.#pending.length > 0 || this.#checkpointWanted) this.#run();
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
        await this.#repair();
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

  /** Cuts what a failed write left behind, if an earlier attempt could not; until then nothing is appended. */
  async #repair(): Promise<void> {
    if (this.#damagedAt === undefined) return;
    try {
      await this.#file!.truncate(this.#damagedAt);
    } catch (error) {
      throw new AuditUnavailableError(`the audit log cannot cut off a failed write (${(error as NodeJS.ErrnoException).code ?? 'error'}); nothing is appended until it can`);
    }
    this.#options.log.warn({ segment: this.#segment.name }, 'audit log: cut off a failed write; appending again');
    this.#damagedAt = undefined;
  }

  async #writeChunk(chunk: Pending[]): Promise<void> {
    const time = this.#options.now().toISOString();
    let frontier = this.#frontier;
    let size = this.#size;
    const lines: string[] = [];
    const leaves: Hash[] = [];
    for (const { event } of chunk) {
      const base = { seq: size, time, event };
      const leaf = recordLeaf(base);
      leaves.push(leaf);
      const before = frontier;
      frontier = appendLeaf(frontier, size, leaf);
      const record: AuditRecord = { ...base, leaf: b64(leaf), root: b64(rootOf(frontier)) };
      if (this.#segment.records === 0 && lines.length === 0) record.prev = before.map(b64);
      lines.push(canonicalJson(record));
      size += 1;
    }
    const data = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    try {
      const { bytesWritten } = await this.#file!.write(data);
      if (bytesWritten !== data.length) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
    } catch (error) {
      // Leave no half batch behind: these records were never acknowledged.
      this.#damagedAt = this.#segment.bytes;
      await this.#repair().catch((failure: unknown) => this.#options.log.error({ err: { message: (failure as Error).message } }, 'audit log: a failed write could not be cut off; appends are refused'));
      throw error;
    }
    const first = this.#size;
    this.#frontier = frontier;
    this.#size = size;
    this.#segment.records += chunk.length;
    this.#segment.bytes += data.length;
    try {
      this.#subtrees?.append(leaves);
    } catch (error) {
      this.#dropSubtrees(error);
    }
    chunk.forEach((pending, index) => pending.resolve({ seq: first + index }));
  }

  #dropSubtrees(error: unknown): undefined {
    this.#options.log.warn({ err: { message: (error as Error).message } }, 'audit log: subtree hashes not written; proofs read the segments until the next start');
    this.#subtrees?.close();
    this.#subtrees = undefined;
    return undefined;
  }

  /** Seals the active segment (never written again) and starts the next one. */
  async #roll(): Promise<void> {
    const name = segmentName(this.#size);
    const next = await this.#options.openSegment(join(this.dir, name), SYNC_APPEND | constants.O_EXCL, 0o600);
    const sealed = this.#segment.name;
    await this.#file!.close().catch(() => {});
    this.#file = next;
    this.#segment = { name, records: 0, bytes: 0 };
    await syncDirectory(this.dir);
    await chmod(join(this.dir, sealed), 0o400).catch(() => {});
    this.#options.onImmutableFile?.(sealed);
  }

  async #writeCheckpoint(): Promise<void> {
    const size = this.#size;
    const origin = this.#options.origin;
    const coSigners = this.#coSigners && size > this.#coSigners.after ? this.#coSigners.signers : [];
    const note = signCheckpoint({ origin, size, root: rootOf(this.#frontier) }, [{ name: origin, key: this.#signingKey }, ...coSigners]);
    const name = checkpointName(size);
    await writeFileAtomic(join(this.dir, name), note);
    if (coSigners.length > 0) this.#coSigners = undefined;
    this.#checkpointed = size;
    this.#options.onImmutableFile?.(name);
  }
}

function failAll(batch: Pending[], error: unknown): void {
  if (batch.length === 0) return;
  const reason = error instanceof AuditUnavailableError ? error.message : `the audit log could not write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  for (const pending of batch) pending.reject(new AuditUnavailableError(reason));
}
