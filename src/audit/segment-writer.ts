import { constants } from 'node:fs';
import { chmod, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/index.ts';
import { AuditUnavailableError } from './events.ts';
import { MAX_WRITE_BYTES, syncDirectory } from './files.ts';
import { segmentName } from './records.ts';
import type { ActiveSegment } from './tail.ts';

/**
 * Segments are opened O_DSYNC: a write returns once its data is on disk, as write + fdatasync
 * would, but in one trip through libuv's thread pool (which token signing keeps busy). Records go
 * into space already zero-filled and synced, so the file's size and blocks do not change and the
 * write does not wait for a file-system journal commit (it would on ext4 when a write extends the
 * file, and other processes' disk traffic can make that commit slow).
 */
const SYNC_WRITE = constants.O_WRONLY | constants.O_CREAT | constants.O_DSYNC;

/** Zeros written at a time ahead of the appends, whenever less than this is left ahead of them. */
const FILL_BYTES = 1024 * 1024;
/** Only ever read from: every fill of every segment writes this one buffer. */
const ZEROS = Buffer.alloc(FILL_BYTES);

export type OpenSegment = (path: string, flags: number, mode: number) => Promise<FileHandle>;

export interface SegmentWriterOptions {
  dir: string;
  log: Logger;
  openSegment: OpenSegment;
  onSealed?: ((name: string) => void) | undefined;
}

/**
 * The active segment file: whole batches written after its records, or none (a failed write is
 * cut back, and nothing is written while the cut has not succeeded), and rolled to the next
 * segment when full. Zeros are written ahead of the records in the background; a segment is cut
 * to its records before it is sealed or closed, so sealed segments never hold zeros.
 */
export class SegmentWriter {
  readonly #options: SegmentWriterOptions;
  #file: FileHandle;
  #segment: ActiveSegment;
  /** A failed write left bytes after this offset that could not be cut yet. */
  #damagedAt: number | undefined;
  /** The file holds records and synced zeros up to here: writes before it do not make the file longer. */
  #allocated: number;
  #filling: Promise<void> | undefined;
  /** Sealing or closing: no more zeros. */
  #fillStopped = false;
  #fillFailed = false;

  private constructor(options: SegmentWriterOptions, file: FileHandle, segment: ActiveSegment) {
    this.#options = options;
    this.#file = file;
    this.#segment = segment;
    this.#allocated = segment.bytes;
  }

  /** Opens the active segment, first cutting what follows its good records (zeros, or `tornBytes` of a write never acknowledged). */
  static async open(options: SegmentWriterOptions, segment: ActiveSegment, state: { created: boolean; tornBytes: number }): Promise<SegmentWriter> {
    const file = await options.openSegment(join(options.dir, segment.name), SYNC_WRITE, 0o600);
    try {
      if ((await file.stat()).size > segment.bytes) await file.truncate(segment.bytes);
      if (state.created) await syncDirectory(options.dir);
    } catch (error) {
      await file.close().catch(() => {});
      throw error;
    }
    if (state.tornBytes > 0) {
      options.log.warn({ segment: segment.name, bytes: state.tornBytes, keptRecords: segment.records }, 'audit log: cut off a torn last record (written, never acknowledged)');
    }
    const writer = new SegmentWriter(options, file, { ...segment });
    await writer.#fill();
    return writer;
  }

  get records(): number {
    return this.#segment.records;
  }

  get bytes(): number {
    return this.#segment.bytes;
  }

  /** Writes `records` lines after the last ones; throws (having cut the file back, or marked it for cutting) if any byte failed. */
  async write(data: Buffer, records: number): Promise<void> {
    await this.repair();
    const at = this.#segment.bytes;
    try {
      // A write past the zeros makes the file longer: no zeros may be written out there meanwhile.
      if (at + data.length > this.#allocated) await this.#filling;
      for (let offset = 0; offset < data.length; offset += MAX_WRITE_BYTES) {
        const piece = data.subarray(offset, offset + MAX_WRITE_BYTES);
        const { bytesWritten } = await this.#file.write(piece, 0, piece.length, at + offset);
        if (bytesWritten !== piece.length) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      }
    } catch (error) {
      // Leave no half batch behind: these records were never acknowledged.
      this.#damagedAt = at;
      await this.repair().catch((failure: unknown) => this.#options.log.error({ err: { message: (failure as Error).message } }, 'audit log: a failed write could not be cut off; appends are refused'));
      throw error;
    }
    this.#segment.records += records;
    this.#segment.bytes += data.length;
    this.#allocated = Math.max(this.#allocated, this.#segment.bytes);
    this.#fillAhead();
  }

  /** Cuts what a failed write left behind, if an earlier attempt could not; until then nothing is written. */
  async repair(): Promise<void> {
    if (this.#damagedAt === undefined) return;
    await this.#filling;
    try {
      await this.#file.truncate(this.#damagedAt);
    } catch (error) {
      throw new AuditUnavailableError(`the audit log cannot cut off a failed write (${(error as NodeJS.ErrnoException).code ?? 'error'}); nothing is appended until it can`);
    }
    this.#options.log.warn({ segment: this.#segment.name }, 'audit log: cut off a failed write; appending again');
    this.#allocated = this.#damagedAt;
    this.#damagedAt = undefined;
  }

  /** Seals the active segment (cut to its records, never written again) and starts the next one at `firstSeq`. */
  async roll(firstSeq: number): Promise<void> {
    await this.repair();
    await this.#cutToRecords();
    const name = segmentName(firstSeq);
    const next = await this.#options.openSegment(join(this.#options.dir, name), SYNC_WRITE | constants.O_EXCL, 0o600);
    const sealed = this.#segment.name;
    await this.#file.close().catch(() => {});
    this.#file = next;
    this.#segment = { name, records: 0, bytes: 0 };
    this.#allocated = 0;
    this.#fillStopped = false;
    await syncDirectory(this.#options.dir);
    await chmod(join(this.#options.dir, sealed), 0o400).catch(() => {});
    this.#options.onSealed?.(sealed);
    await this.#fill();
  }

  /** Closes the segment cut to its records (a reader of a stopped log finds no zeros). */
  async close(): Promise<void> {
    await this.#cutToRecords().catch((error: unknown) => this.#options.log.warn({ err: { message: (error as Error).message } }, 'audit log: what follows the last record was not cut off (readers skip zeros; the next start cuts the rest)'));
    await this.#file.close();
  }

  /** Stops the zeros and cuts the file to its records, on disk before this returns. */
  async #cutToRecords(): Promise<void> {
    this.#fillStopped = true;
    await this.#filling;
    await this.#file.truncate(this.#segment.bytes);
    await this.#file.datasync();
    this.#allocated = this.#segment.bytes;
  }

  /** Keeps at least FILL_BYTES of synced zeros ahead of the records, writing them in the background (a segment starts with them). */
  #fillAhead(): void {
    if (this.#filling || this.#fillStopped || this.#damagedAt !== undefined || this.#allocated - this.#segment.bytes >= FILL_BYTES) return;
    this.#filling = this.#fill().finally(() => {
      this.#filling = undefined;
    });
  }

  async #fill(): Promise<void> {
    try {
      while (!this.#fillStopped && this.#allocated - this.#segment.bytes < FILL_BYTES) {
        const { bytesWritten } = await this.#file.write(ZEROS, 0, FILL_BYTES, this.#allocated);
        if (bytesWritten !== FILL_BYTES) return;
        this.#allocated += FILL_BYTES;
        this.#fillFailed = false;
      }
    } catch (error) {
      // Appends still work without zeros ahead (each one makes the file longer); the next append tries again.
      if (!this.#fillFailed) this.#options.log.warn({ segment: this.#segment.name, err: { message: (error as Error).message } }, 'audit log: could not write zeros ahead of the appends; appends make the file longer meanwhile');
      this.#fillFailed = true;
    }
  }
}
