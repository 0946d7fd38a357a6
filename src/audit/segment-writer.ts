import { constants } from 'node:fs';
import { chmod, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/index.ts';
import { AuditUnavailableError } from './events.ts';
import { syncDirectory } from './files.ts';
import { segmentName } from './records.ts';
import type { ActiveSegment } from './tail.ts';

/**
 * Segments are opened O_SYNC: a write returns once its data is on disk, as write + fsync would,
 * but in one trip through libuv's thread pool (which token signing keeps busy).
 */
const SYNC_APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_SYNC;

export type OpenSegment = (path: string, flags: number, mode: number) => Promise<FileHandle>;

export interface SegmentWriterOptions {
  dir: string;
  log: Logger;
  openSegment: OpenSegment;
  onSealed?: ((name: string) => void) | undefined;
}

/**
 * The active segment file: whole batches appended, or none (a failed write is cut back, and
 * nothing is appended while the cut has not succeeded), and rolled to the next segment when full.
 */
export class SegmentWriter {
  readonly #options: SegmentWriterOptions;
  #file: FileHandle;
  #segment: ActiveSegment;
  /** A failed write left bytes after this offset that could not be cut yet. */
  #damagedAt: number | undefined;

  private constructor(options: SegmentWriterOptions, file: FileHandle, segment: ActiveSegment) {
    this.#options = options;
    this.#file = file;
    this.#segment = segment;
  }

  /** Opens the active segment, first cutting `tornBytes` after its good records (a write never acknowledged). */
  static async open(options: SegmentWriterOptions, segment: ActiveSegment, state: { created: boolean; tornBytes: number }): Promise<SegmentWriter> {
    const path = join(options.dir, segment.name);
    if (state.tornBytes > 0) {
      await truncate(path, segment.bytes);
      options.log.warn({ segment: segment.name, bytes: state.tornBytes, keptRecords: segment.records }, 'audit log: cut off a torn last record (written, never acknowledged)');
    }
    const file = await options.openSegment(path, SYNC_APPEND, 0o600);
    if (state.created) await syncDirectory(options.dir);
    return new SegmentWriter(options, file, { ...segment });
  }

  get records(): number {
    return this.#segment.records;
  }

  get bytes(): number {
    return this.#segment.bytes;
  }

  /** Appends `records` lines as one write; throws (having cut the file back, or marked it for cutting) if any byte failed. */
  async write(data: Buffer, records: number): Promise<void> {
    await this.repair();
    try {
      const { bytesWritten } = await this.#file.write(data);
      if (bytesWritten !== data.length) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
    } catch (error) {
      // Leave no half batch behind: these records were never acknowledged.
      this.#damagedAt = this.#segment.bytes;
      await this.repair().catch((failure: unknown) => this.#options.log.error({ err: { message: (failure as Error).message } }, 'audit log: a failed write could not be cut off; appends are refused'));
      throw error;
    }
    this.#segment.records += records;
    this.#segment.bytes += data.length;
  }

  /** Cuts what a failed write left behind, if an earlier attempt could not; until then nothing is appended. */
  async repair(): Promise<void> {
    if (this.#damagedAt === undefined) return;
    try {
      await this.#file.truncate(this.#damagedAt);
    } catch (error) {
      throw new AuditUnavailableError(`the audit log cannot cut off a failed write (${(error as NodeJS.ErrnoException).code ?? 'error'}); nothing is appended until it can`);
    }
    this.#options.log.warn({ segment: this.#segment.name }, 'audit log: cut off a failed write; appending again');
    this.#damagedAt = undefined;
  }

  /** Seals the active segment (never written again) and starts the next one at `firstSeq`. */
  async roll(firstSeq: number): Promise<void> {
    await this.repair();
    const name = segmentName(firstSeq);
    const next = await this.#options.openSegment(join(this.#options.dir, name), SYNC_APPEND | constants.O_EXCL, 0o600);
    const sealed = this.#segment.name;
    await this.#file.close().catch(() => {});
    this.#file = next;
    this.#segment = { name, records: 0, bytes: 0 };
    await syncDirectory(this.#options.dir);
    await chmod(join(this.#options.dir, sealed), 0o400).catch(() => {});
    this.#options.onSealed?.(sealed);
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}
