import { fdatasync } from 'node:fs';
import { promisify } from 'node:util';

const datasync = promisify(fdatasync);

/**
 * Group commit for the embedded engine's write-ahead log. SQLite commits without flushing
 * (WAL, synchronous=NORMAL: atomic, and safe from a process crash); a write then waits for an
 * fdatasync of the WAL file, run on libuv's thread pool, so the event loop serves other requests
 * meanwhile and writes committed while one flush runs share the next. SQLite appends commits to
 * the WAL in order, so a flush makes every commit before it durable.
 */
export class WalFlusher {
  readonly #fd: number;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  /** `fd`: the WAL file, opened by the caller (any fd of the file flushes its data). */
  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Resolves once every commit made before this call is on disk. */
  flush(): Promise<void> {
    if (this.#next) return this.#next;
    if (!this.#running) return this.#start();
    // The running flush may have begun before this commit: wait for it, then share the next one.
    const startNext = (): Promise<void> => {
      this.#next = undefined;
      return this.#start();
    };
    this.#next = this.#running.then(startNext, startNext);
    return this.#next;
  }

  #start(): Promise<void> {
    const running: Promise<void> = datasync(this.#fd).finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}
