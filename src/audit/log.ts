import type { KeyObject } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { ConfigError } from '../config/index.ts';
import { lockDirectory, type DirectoryLock } from '../lock/index.ts';
import type { Logger } from '../log/index.ts';
import { AuditUnavailableError, type AuditEvent, type AuditSink } from './events.ts';
import { Checkpointer } from './checkpointer.ts';
import { listLogFiles } from './files.ts';
import { checkIdentity, type Handover } from './identity.ts';
import { binaryRootOf, toBinaryHash, toHash, type BinaryHash, type Hash } from './merkle.ts';
import { RecordPreparer, subtreeLevels, type PreparedRecord } from './prepared-records.ts';
import { leafHashesFrom } from './read-log.ts';
import { SegmentWriter, type OpenSegment } from './segment-writer.ts';
import { verifierKey } from './signed-note.ts';
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
  openSegment?: OpenSegment;
}

type ResolvedOptions = Required<Omit<AuditLogOptions, 'onImmutableFile' | 'keySetting' | 'oldKeyLost'>> & Pick<AuditLogOptions, 'onImmutableFile'>;

export const AUDIT_LOCK_FILE = 'writer.lock';

interface Pending {
  event: AuditEvent;
  resolve(value: { seq: number }): void;
  reject(error: Error): void;
}

interface Prepared {
  pending: Pending;
  record: PreparedRecord;
}

/**
 * Records prepared in one go: before the first write of a drain (the disk gets to work early), and
 * while a write is in flight, between looks at whether it finished.
 */
const PREPARE_CHUNK = 32;

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
 * This class is the commit queue and the tree state; the segment writer, the checkpointer and
 * the stored subtree hashes are their own pieces (as in transparency-dev/tessera).
 *
 * @example
 * const key = await loadAuditKey({ keysDir: './keys', fileName: 'audit-my-mcp-ed25519.pem' });
 * const audit = await AuditLog.open({ dir: './data/audit', origin: 'mcp.example.com/audit', signingKey: key.privateKey, log });
 * await audit.append({ type: 'tool.executed', tool: 'create_note' });
 */
export class AuditLog implements AuditSink {
  readonly dir: string;
  readonly #options: ResolvedOptions;
  readonly #lock: DirectoryLock;
  readonly #checkpointer: Checkpointer;
  #writer: SegmentWriter | undefined;
  /** As on disk; binary strings, as the preparer works with them. */
  #frontier: BinaryHash[];
  #size: number;
  #checkpointed: number;
  #pending: Pending[] = [];
  /** Serialised and hashed, in seq order, not yet written. */
  #prepared: Prepared[] = [];
  #preparer: RecordPreparer | undefined;
  #prepareScheduled = false;
  #checkpointWanted = false;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started: Promise<void> | undefined;
  #closed = false;
  #startState: Pick<OpenState, 'segment' | 'created' | 'tornBytes' | 'handover'>;
  /** Derived subtree hashes for proofs; dropped (rebuilt at the next start) if writing them fails. */
  #subtrees: SubtreeStore | undefined;

  private constructor(options: ResolvedOptions, state: OpenState) {
    this.dir = options.dir;
    this.#options = options;
    this.#lock = state.lock;
    this.#checkpointer = new Checkpointer({ dir: options.dir, origin: options.origin, key: options.signingKey, onWritten: options.onImmutableFile });
    this.#frontier = state.frontier.map(toBinaryHash);
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
    const { handover } = this.#startState;
    this.#writer = await SegmentWriter.open(
      { dir: this.dir, log: this.#options.log, openSegment: this.#options.openSegment, onSealed: this.#options.onImmutableFile }, this.#startState.segment, this.#startState,
    );
    this.#preparer = new RecordPreparer(this.#options, this.#writtenPosition());
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
  async #handOver(handover: Handover, nextKey?: KeyObject): Promise<void> {
    await this.#settled();
    // Nothing is being written now, so the handover gets seq #size; the first checkpoint past it is co-signed.
    this.#checkpointer.handOver(handover.coSigners, this.#size, nextKey);
    const recorded = new Promise<{ seq: number }>((resolve, reject) => this.#pending.unshift({ event: handover.event, resolve, reject }));
    this.#wantCheckpoint();
    await recorded;
    await this.#settled();
  }

  /** Records `audit.key_rotated` and signs the checkpoint after it with both keys; later checkpoints use `next` only. */
  async rotateKey(next: KeyObject): Promise<void> {
    await this.start();
    const origin = this.#options.origin;
    const old = this.#checkpointer.key;
    await this.#handOver({
      event: { type: 'audit.key_rotated', from_key: verifierKey(origin, old), to_key: verifierKey(origin, next) },
      coSigners: [{ name: origin, key: old }],
    }, next);
  }

  /** Records in the log. */
  get size(): number {
    return this.#size;
  }

  /** The verifier key of the key that signs new checkpoints. */
  get verifierKey(): string {
    return this.#checkpointer.verifierKey;
  }

  append(event: AuditEvent): Promise<{ seq: number }> {
    if (this.#closed) return Promise.reject(new AuditUnavailableError('the audit log is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({ event, resolve, reject });
      // While a drain writes, prepare soon: the CPU work overlaps the disk's.
      if (this.#running) this.#prepareSoon();
      else this.#run();
    });
  }

  /** Prepares once the appends made in this turn are queued: one clock read and one pass for a chunk of them. */
  #prepareSoon(): void {
    if (this.#prepareScheduled) return;
    this.#prepareScheduled = true;
    queueMicrotask(() => this.#prepareChunk());
  }

  /**
   * Between chunks the event loop runs, so a write that finished meanwhile is seen at once and the
   * next one starts with what is ready: the disk writes one batch while the next is prepared.
   */
  #prepareChunk(): void {
    this.#prepareScheduled = false;
    this.#prepare(PREPARE_CHUNK);
    if (this.#pending.length === 0) return;
    this.#prepareScheduled = true;
    setImmediate(() => this.#prepareChunk());
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
    if (this.#writer) {
      this.#wantCheckpoint();
      await this.#settled();
      await this.#writer.close();
    }
    failAll(this.#pending.splice(0), new AuditUnavailableError('the audit log is closed'));
    this.#flushSubtrees();
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
    if (!this.#writer) return;
    this.#running ??= this.#drain().catch((error: unknown) => {
      this.#options.log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'audit checkpoint failed');
    }).finally(() => {
      this.#running = undefined;
      if (this.#pending.length > 0 || this.#prepared.length > 0 || this.#checkpointWanted) this.#run();
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0 || this.#prepared.length > 0 || this.#checkpointWanted) {
      if (this.#prepared.length === 0) this.#prepare(PREPARE_CHUNK);
      if (this.#prepared.length > 0) await this.#writePrepared();
      if (this.#checkpointWanted || this.#size - this.#checkpointed >= this.#options.checkpointEveryRecords) {
        this.#checkpointWanted = false;
        if (this.#size > this.#checkpointed) await this.#writeCheckpoint();
      }
    }
  }

  /** Serialises and hashes queued events, in order, up to `limit` of them. */
  #prepare(limit = Infinity): void {
    const events = this.#pending.splice(0, limit);
    if (events.length === 0) return;
    const time = this.#options.now().toISOString();
    for (const pending of events) {
      try {
        this.#prepared.push({ pending, record: this.#preparer!.prepare(pending.event, time) });
      } catch (error) {
        failAll([pending], error);
      }
    }
  }

  /**
   * Writes the prepared records up to the next segment boundary as one write (rolling first if they
   * open a segment), preparing the queue meanwhile. A failed write fails them and every record
   * prepared after them, whose hashes chain from them.
   */
  async #writePrepared(): Promise<void> {
    const writer = this.#writer!;
    let end = 1;
    while (end < this.#prepared.length && !this.#prepared[end]!.record.startsSegment) end += 1;
    const batch = this.#prepared.splice(0, end);
    const first = batch[0]!.record;
    try {
      if (first.startsSegment) await writer.roll(first.seq);
      const written = writer.write(Buffer.from(batch.map(({ record }) => record.line).join(''), 'utf8'), batch.length);
      this.#prepareSoon();
      await written;
    } catch (error) {
      const unwritten = [...batch, ...this.#prepared.splice(0)];
      this.#preparer!.reset(this.#writtenPosition());
      return failAll(unwritten.map(({ pending }) => pending), error);
    }
    const last = batch.at(-1)!.record;
    this.#frontier = last.frontier;
    this.#size = last.seq + 1;
    try {
      this.#subtrees?.appendLevels(subtreeLevels(batch.map(({ record }) => record)));
    } catch (error) {
      this.#dropSubtrees(error);
    }
    for (const { pending, record } of batch) pending.resolve({ seq: record.seq });
  }

  #writtenPosition() {
    return { frontier: this.#frontier, size: this.#size, segmentRecords: this.#writer!.records, segmentBytes: this.#writer!.bytes };
  }

  #flushSubtrees(): void {
    try {
      this.#subtrees?.flush();
    } catch (error) {
      this.#dropSubtrees(error);
    }
  }

  #dropSubtrees(error: unknown): undefined {
    this.#options.log.warn({ err: { message: (error as Error).message } }, 'audit log: subtree hashes not written; proofs read the segments until the next start');
    this.#subtrees?.close();
    this.#subtrees = undefined;
    return undefined;
  }

  async #writeCheckpoint(): Promise<void> {
    const size = this.#size;
    // Proofs are asked for checkpointed sizes: the stored subtrees cover them.
    this.#flushSubtrees();
    await this.#checkpointer.write(size, toHash(binaryRootOf(this.#frontier)));
    this.#checkpointed = size;
  }
}

function failAll(batch: Pending[], error: unknown): void {
  if (batch.length === 0) return;
  const reason = error instanceof AuditUnavailableError ? error.message : `the audit log could not write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  for (const pending of batch) pending.reject(new AuditUnavailableError(reason));
}
