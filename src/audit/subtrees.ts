import { closeSync, ftruncateSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { largestPowerOfTwoBelow, nodeHash, treeHash, type BinaryHash, type Hash } from './merkle.ts';

/**
 * Stored subtree hashes, so proofs read a few hundred hashes instead of the whole log (the tile
 * idea of transparency-dev/tessera). File `tree-<L>.hashes` holds, 32 bytes each, the hash of
 * every complete aligned subtree of 256^L leaves: level 0 the leaf hashes, level 1 each 256-leaf
 * subtree, and so on. The files are derived data: written after the records, cut back or
 * caught up from the segments when they disagree with the log.
 */
const HASH_BYTES = 32;
export const TILE = 256;
const TILE_BITS = 8;
export const subtreeFile = (level: number) => `tree-${level}.hashes`;
/** Leaf hashes a writer holds at most before writing them (32 KiB). */
const BUFFERED_LEAVES = 1024;

/** The tiles a leaf completes, level 1 first, from the merges that folded it into the tree (`merged[h - 1]` spans 2^h leaves). */
export function tilesFrom(merged: readonly BinaryHash[]): BinaryHash[] {
  const tiles: BinaryHash[] = [];
  for (let height = TILE_BITS; height <= merged.length; height += TILE_BITS) tiles.push(merged[height - 1]!);
  return tiles;
}

export class SubtreeStore {
  readonly #dir: string;
  readonly #writable: boolean;
  readonly #files: number[] = [];
  readonly #counts: number[] = [];
  /** Leaves past level 0's file (a reader catching up with a log it may not write). */
  #extra: Hash[] = [];
  /** Hashes appended but not yet written, per level (a writer's). */
  #buffered: BinaryHash[] = [];

  private constructor(dir: string, writable: boolean) {
    this.#dir = dir;
    this.#writable = writable;
  }

  /** Opens the files for `size` leaves: cut back where they run ahead; `missing` gives the leaf hashes from the count they hold on. */
  static open(dir: string, size: number, options: { writable: boolean; missing: (from: number) => Promise<Hash[]> }): Promise<SubtreeStore> {
    return new SubtreeStore(dir, options.writable).#load(size, options.missing);
  }

  async #load(size: number, missing: (from: number) => Promise<Hash[]>): Promise<this> {
    for (let level = 0, span = 1; level === 0 || span <= size; level += 1, span *= TILE) {
      const file = openFile(join(this.#dir, subtreeFile(level)), this.#writable);
      if (file === undefined) {
        this.#counts.push(0);
        break;
      }
      this.#files.push(file);
      const stored = Math.floor(fstatSync(file).size / HASH_BYTES);
      const below = level === 0 ? size : Math.floor(this.#counts[level - 1]! / TILE);
      const count = Math.min(stored, Math.floor(size / span), below);
      // Whole hashes only, none past the log (a torn write, records cut by recovery): appends then land in place.
      if (this.#writable) ftruncateSync(file, count * HASH_BYTES);
      this.#counts.push(count);
      if (this.#writable && level > 0) this.#catchUp(level, below);
    }
    if (this.#counts[0]! < size) {
      const leaves = (await missing(this.#counts[0]!)).slice(0, size - this.#counts[0]!);
      if (this.#writable) this.append(leaves);
      else this.#extra = leaves;
    }
    return this;
  }

  /** Leaves covered. */
  get size(): number {
    return this.#counts[0]! + this.#extra.length + (this.#buffered[0]?.length ?? 0) / HASH_BYTES;
  }

  /** Adds leaf hashes, and every subtree they complete (read back and hashed). */
  append(leaves: Hash[]): void {
    let added = leaves;
    for (let level = 0; added.length > 0; level += 1) {
      const before = this.#write(level, Buffer.concat(added));
      const completed: Hash[] = [];
      for (let group = Math.floor(before / TILE); (group + 1) * TILE <= this.#counts[level]!; group += 1) {
        completed.push(treeHash(this.#read(level, group * TILE, TILE)));
      }
      added = completed;
    }
  }

  /**
   * Adds leaf hashes and the subtrees they complete, already worked out (the writer has them from
   * the merges that made each record's tree head): `levels[L]` holds level L's new hashes as binary
   * strings, concatenated. They are held until `flush` (or until `BUFFERED_LEAVES` wait): a write per
   * batch of records cost the writer a system call each, and a crash only leaves the files behind
   * the log, which the next start catches up.
   */
  appendLevels(levels: readonly BinaryHash[]): void {
    levels.forEach((hashes, level) => {
      this.#buffered[level] = (this.#buffered[level] ?? '') + hashes;
    });
    if (this.#buffered[0]!.length >= BUFFERED_LEAVES * HASH_BYTES) this.flush();
  }

  /** Writes the held hashes, lowest level first (a level never runs ahead of the one below it). */
  flush(): void {
    const buffered = this.#buffered.splice(0);
    buffered.forEach((hashes, level) => {
      if (hashes) this.#write(level, Buffer.from(hashes, 'binary'));
    });
  }

  /** Appends whole hashes to a level's file; returns how many it held before. */
  #write(level: number, hashes: Buffer): number {
    if (level === this.#files.length) {
      this.#files.push(openSync(join(this.#dir, subtreeFile(level)), 'a+'));
      this.#counts.push(0);
    }
    const before = this.#counts[level]!;
    writeSync(this.#files[level]!, hashes, 0, hashes.length, before * HASH_BYTES);
    this.#counts[level] = before + hashes.length / HASH_BYTES;
    return before;
  }

  /** A level left behind the one below it (a crash between their writes) gets the subtrees it lacks, so later ones land in place. */
  #catchUp(level: number, complete: number): void {
    for (let group = this.#counts[level]!; group < complete; group += 1) this.#write(level, treeHash(this.#read(level - 1, group * TILE, TILE)));
  }

  /** Closes the files; hashes held and not flushed are dropped (the next start catches up from the segments). */
  close(): void {
    this.#buffered = [];
    for (const file of this.#files.splice(0)) closeSync(file);
  }

  /** MTH of leaves [start, end). */
  hash(start: number, end: number): Hash {
    const size = end - start;
    if (size === 1) return this.#leaf(start);
    if ((size & (size - 1)) === 0 && start % size === 0) {
      const bits = Math.log2(size);
      const level = Math.floor(bits / TILE_BITS);
      const span = TILE ** level;
      if (level > 0 && (start + size) / span <= (this.#counts[level] ?? 0)) return treeHash(this.#read(level, start / span, size / span));
    }
    const split = largestPowerOfTwoBelow(size);
    return nodeHash(this.hash(start, start + split), this.hash(start + split, end));
  }

  /** PATH(m, D[n]) (RFC 9162 §2.1.3.1). */
  inclusionPath(index: number, size: number, start = 0): Hash[] {
    if (size <= 1) return [];
    const split = largestPowerOfTwoBelow(size);
    return index < split
      ? [...this.inclusionPath(index, split, start), this.hash(start + split, start + size)]
      : [...this.inclusionPath(index - split, size - split, start + split), this.hash(start, start + split)];
  }

  /** PROOF(m, D[n]) (RFC 9162 §2.1.4.1): the tree of `second` leaves extends the one of `first`. */
  consistencyPath(first: number, second: number): Hash[] {
    if (first <= 0 || first >= second) return [];
    return this.#subproof(first, 0, second, true);
  }

  #subproof(first: number, start: number, end: number, whole: boolean): Hash[] {
    const size = end - start;
    if (first === size) return whole ? [] : [this.hash(start, end)];
    const split = largestPowerOfTwoBelow(size);
    return first <= split
      ? [...this.#subproof(first, start, start + split, whole), this.hash(start + split, end)]
      : [...this.#subproof(first - split, start + split, end, false), this.hash(start, start + split)];
  }

  #leaf(index: number): Hash {
    return index < this.#counts[0]! ? this.#read(0, index, 1)[0]! : this.#extra[index - this.#counts[0]!]!;
  }

  #read(level: number, first: number, count: number): Hash[] {
    const buffer = Buffer.alloc(count * HASH_BYTES);
    readSync(this.#files[level]!, buffer, 0, buffer.length, first * HASH_BYTES);
    return Array.from({ length: count }, (_unused, index) => buffer.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES));
  }
}

/** A writer creates the file; a reader takes it as empty when it is not there. */
function openFile(path: string, writable: boolean): number | undefined {
  try {
    return openSync(path, writable ? 'a+' : 'r');
  } catch (error) {
    if (!writable && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
