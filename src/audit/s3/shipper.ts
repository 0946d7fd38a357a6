import { createReadStream } from 'node:fs';
import { appendFile, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../../log/index.ts';
import { listLogFiles } from '../files.ts';
import { segmentStartTime } from '../read-log.ts';
import { fileDigest } from '../segment-lines.ts';
import { SEGMENT_PATTERN } from '../records.ts';
import { objectKey } from './object-key.ts';

export interface S3ShipperOptions {
  client: S3Client;
  bucket: string;
  prefix: string;
  lockMode: 'GOVERNANCE' | 'COMPLIANCE';
  retentionDays: number;
  /** The audit log's directory; confirmed uploads are listed in its `uploaded.log`. */
  dir: string;
  log: Logger;
  /** Backoff between failed attempts: doubles from `minDelayMs` up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  now?: () => Date;
}

export const UPLOADED_MANIFEST = 'uploaded.log';

/**
 * Ships immutable audit files (sealed segments, checkpoints) to S3 with Object Lock, one at a
 * time, retrying with backoff for as long as it takes. A file counts as shipped only once S3
 * confirmed it and its name is fsync'd into `uploaded.log`; the local file is kept either way,
 * so nothing is lost while S3 is down, and a restart resumes with whatever is not listed.
 */
export class S3Shipper {
  readonly #options: Required<Omit<S3ShipperOptions, 'now'>> & { now: () => Date };
  readonly #queue: string[] = [];
  readonly #uploaded = new Set<string>();
  #worker: Promise<void> | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #idle: Array<() => void> = [];

  constructor(options: S3ShipperOptions) {
    this.#options = { minDelayMs: 500, maxDelayMs: 60_000, now: () => new Date(), ...options };
  }

  /** Queues every immutable file that `uploaded.log` does not list yet (after a restart or an outage). */
  async start(): Promise<void> {
    const manifest = await readFile(join(this.#options.dir, UPLOADED_MANIFEST), 'utf8').catch(() => '');
    for (const line of manifest.split('\n')) if (line) this.#uploaded.add(line.split(' ')[0]!);
    const files = await listLogFiles(this.#options.dir);
    const immutable = [...files.segments.slice(0, -1).map((segment) => segment.name), ...files.checkpoints.map((checkpoint) => checkpoint.name)];
    for (const name of immutable) this.enqueue(name);
  }

  enqueue(name: string): void {
    if (this.#uploaded.has(name) || this.#queue.includes(name) || this.#stopped) return;
    this.#queue.push(name);
    this.#kick();
  }

  #kick(): void {
    if (this.#worker || this.#stopped) return;
    this.#worker = this.#work().finally(() => {
      this.#worker = undefined;
      if (this.#queue.length > 0) this.#kick();
    });
  }

  /** Resolves once everything queued so far is confirmed (tests; shutdown with a deadline). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#worker) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Files waiting for upload. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Stops after the upload in flight; what is left is shipped after the next start. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#worker;
  }

  async #work(): Promise<void> {
    let failures = 0;
    while (this.#queue.length > 0 && !this.#stopped) {
      const name = this.#queue[0]!;
      try {
        await this.#upload(name);
        this.#queue.shift();
        failures = 0;
      } catch (error) {
        failures += 1;
        const delay = Math.min(this.#options.maxDelayMs, this.#options.minDelayMs * 2 ** Math.min(failures - 1, 20));
        this.#options.log.warn({ file: name, attempt: failures, retryInMs: delay, err: { name: (error as Error).name, message: (error as Error).message } }, 'audit upload to S3 failed; will retry');
        await this.#sleep(delay);
      }
    }
    if (this.#queue.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #upload(name: string): Promise<void> {
    const path = join(this.#options.dir, name);
    // Read as a stream (a segment can be 64 MiB); the SDK tries once, so every attempt opens the file afresh.
    const { sha256, bytes } = await fileDigest(path);
    const key = objectKey(this.#options.prefix, await this.#dateOf(name, path), name);
    const retainUntil = new Date(this.#options.now().getTime() + this.#options.retentionDays * 86_400_000);
    await this.#options.client.send(new PutObjectCommand({
      Bucket: this.#options.bucket,
      Key: key,
      Body: createReadStream(path),
      ContentLength: bytes,
      ContentType: name.endsWith('.note') ? 'text/plain; charset=utf-8' : 'application/x-ndjson',
      ChecksumSHA256: sha256,
      ObjectLockMode: this.#options.lockMode,
      ObjectLockRetainUntilDate: retainUntil,
    }));
    await this.#confirm(name, key);
  }

  /** Segments are filed under the day of their first record, checkpoints under the day they were written. */
  async #dateOf(name: string, path: string): Promise<Date> {
    const start = SEGMENT_PATTERN.test(name) ? await segmentStartTime(this.#options.dir, name) : undefined;
    return start ? new Date(start) : (await stat(path)).mtime;
  }

  async #confirm(name: string, key: string): Promise<void> {
    await appendFile(join(this.#options.dir, UPLOADED_MANIFEST), `${name} ${key}\n`, { mode: 0o600 });
    const handle = await open(join(this.#options.dir, UPLOADED_MANIFEST), 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.#uploaded.add(name);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
