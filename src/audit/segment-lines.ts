import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** How much of a segment file is read at a time: a check of any log holds about this much of it. */
export const READ_CHUNK_BYTES = 1024 * 1024;

/** The bytes of a file from `start` to `end` (default: its end), as views of one reused buffer of `chunkBytes`. */
export async function* fileChunks(path: string, options: { start?: number; end?: number; chunkBytes?: number } = {}): AsyncGenerator<Buffer> {
  const chunk = Buffer.allocUnsafe(options.chunkBytes ?? READ_CHUNK_BYTES);
  const end = options.end ?? Number.POSITIVE_INFINITY;
  const handle = await open(path, 'r');
  try {
    for (let position = options.start ?? 0; position < end;) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, end - position), position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield chunk.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * The lines of a segment file, read a chunk at a time: it holds one chunk and the line being
 * assembled, whatever the file's size. Once the lines are read, `tail` holds what follows the last
 * newline (a torn write). Zero bytes that end the file are space reserved for records and not
 * written yet, neither a line nor a tail (records never hold a zero byte: JSON escapes it).
 */
export class SegmentLines implements AsyncIterable<string> {
  readonly path: string;
  readonly chunkBytes: number;
  /** Bytes after the last newline, without the zero bytes that end the file. */
  tail = '';
  /** The file's size, as read. */
  fileBytes = 0;
  /** Where the written data ends: the file's size less the zero bytes that end it. */
  dataBytes = 0;
  /** The most bytes held at once: the chunk and the part of a line carried over from earlier chunks. */
  peakHeldBytes = 0;

  constructor(path: string, chunkBytes = READ_CHUNK_BYTES) {
    this.path = path;
    this.chunkBytes = chunkBytes;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    const carried = new LineStart();
    for await (const chunk of fileChunks(this.path, { chunkBytes: this.chunkBytes })) {
      this.fileBytes += chunk.length;
      this.peakHeldBytes = Math.max(this.peakHeldBytes, this.chunkBytes + carried.bytes);
      let start = 0;
      for (let newline = chunk.indexOf(0x0a); newline >= 0; newline = chunk.indexOf(0x0a, start)) {
        yield carried.empty ? chunk.toString('utf8', start, newline) : carried.finish(chunk.subarray(start, newline));
        start = newline + 1;
      }
      carried.add(chunk.subarray(start));
      this.peakHeldBytes = Math.max(this.peakHeldBytes, this.chunkBytes + carried.bytes);
    }
    this.tail = carried.finish(Buffer.alloc(0), { dropZeros: true });
    this.dataBytes = this.fileBytes - carried.zeros;
  }
}

/** The start of a line that continues in a later chunk. Zero bytes at its end are counted, not held, until something follows them. */
class LineStart {
  #parts: Buffer[] = [];
  bytes = 0;
  zeros = 0;

  get empty(): boolean {
    return this.bytes === 0 && this.zeros === 0;
  }

  add(part: Buffer): void {
    let content = part.length;
    while (content > 0 && part[content - 1] === 0) content -= 1;
    if (content > 0) {
      this.#materialiseZeros();
      this.#parts.push(Buffer.from(part.subarray(0, content)));
      this.bytes += content;
    }
    this.zeros += part.length - content;
  }

  /** The line, ending with `last`; resets for the next line. */
  finish(last: Buffer, options: { dropZeros?: boolean } = {}): string {
    if (!options.dropZeros) this.#materialiseZeros();
    const line = Buffer.concat([...this.#parts, last]).toString('utf8');
    this.#parts = [];
    this.bytes = 0;
    if (!options.dropZeros) this.zeros = 0;
    return line;
  }

  #materialiseZeros(): void {
    if (this.zeros === 0) return;
    this.#parts.push(Buffer.alloc(this.zeros));
    this.bytes += this.zeros;
    this.zeros = 0;
  }
}

/**
 * The complete lines of a segment file from the last to the first, read a chunk at a time from
 * the end: what follows the last newline (a torn write, reserved space) is skipped, never held.
 */
export async function* linesBackward(path: string, chunkBytes = READ_CHUNK_BYTES): AsyncGenerator<string> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(chunkBytes);
    let later: Buffer[] = [];
    let pastTail = false;
    for (let position = (await handle.stat()).size; position > 0;) {
      const start = Math.max(0, position - chunkBytes);
      const { bytesRead } = await handle.read(chunk, 0, position - start, start);
      if (bytesRead < position - start) throw new Error(`${path} shrank while it was read`);
      position = start;
      const data = chunk.subarray(0, bytesRead);
      let end = data.length;
      for (let newline = data.lastIndexOf(0x0a, end - 1); newline >= 0; newline = end > 0 ? data.lastIndexOf(0x0a, end - 1) : -1) {
        if (pastTail) yield Buffer.concat([data.subarray(newline + 1, end), ...later]).toString('utf8');
        later = [];
        pastTail = true;
        end = newline;
      }
      if (pastTail) later.unshift(Buffer.from(data.subarray(0, end)));
    }
    if (pastTail) yield Buffer.concat(later).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** SHA-256 (base64) and size of a file, read a chunk at a time. */
export async function fileDigest(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fileChunks(path)) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('base64'), bytes };
}
