import { createHash, hash } from 'node:crypto';

/**
 * RFC 9162 §2.1 Merkle tree hashing: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right).
 * The running state of a tree is its frontier: the roots of the perfect subtrees that make up its
 * size, largest first (one per set bit of the size).
 */
export type Hash = Buffer;

/**
 * A hash as a 32-character binary (latin1) string. The writer computes about ten hashes per record,
 * so their per-call cost is what counts: one-shot SHA-256 over one reused buffer, the digest kept
 * as a string (a Buffer per digest costs more than the hash itself).
 */
export type BinaryHash = string;

const node = Buffer.alloc(65, 1);

export function binaryLeafHash(data: string): BinaryHash {
  return hash('sha256', `\u0000${data}`, 'binary');
}

export function binaryNodeHash(left: BinaryHash, right: BinaryHash): BinaryHash {
  node.write(left, 1, 'binary');
  node.write(right, 33, 'binary');
  return hash('sha256', node, 'binary');
}

export function leafHash(data: string | Buffer): Hash {
  return typeof data === 'string' ? toHash(binaryLeafHash(data)) : toHash(hash('sha256', Buffer.concat([Buffer.of(0), data]), 'binary'));
}

export function nodeHash(left: Hash, right: Hash): Hash {
  left.copy(node, 1);
  right.copy(node, 33);
  return toHash(hash('sha256', node, 'binary'));
}

export const toHash = (binary: BinaryHash): Hash => Buffer.from(binary, 'binary');
export const toBinaryHash = (hash: Hash): BinaryHash => hash.toString('binary');

const EMPTY_ROOT = createHash('sha256').digest();

/** The frontier after appending `leaf` to a tree of `size` leaves whose frontier is `frontier`. */
export const appendLeaf = (frontier: readonly Hash[], size: number, leaf: Hash): Hash[] => foldInLeaf(frontier, size, leaf, nodeHash);
/** As appendLeaf; `merged`, when given, receives the merges' hashes: the root of the last 2^h leaves after h merges. */
export const appendBinaryLeaf = (frontier: readonly BinaryHash[], size: number, leaf: BinaryHash, merged?: BinaryHash[]): BinaryHash[] =>
  foldInLeaf(frontier, size, leaf, binaryNodeHash, merged);

/** MTH of the tree the frontier describes. */
export const rootOf = (frontier: readonly Hash[]): Hash => foldRoot(frontier, EMPTY_ROOT, nodeHash);
export const binaryRootOf = (frontier: readonly BinaryHash[]): BinaryHash => foldRoot(frontier, toBinaryHash(EMPTY_ROOT), binaryNodeHash);

function foldInLeaf<H extends Hash | BinaryHash>(frontier: readonly H[], size: number, leaf: H, hashNodes: (left: H, right: H) => H, merged?: H[]): H[] {
  const next = [...frontier];
  let hash = leaf;
  for (let bits = size; bits % 2 === 1; bits = Math.floor(bits / 2)) {
    hash = hashNodes(next.pop()!, hash);
    merged?.push(hash);
  }
  next.push(hash);
  return next;
}

function foldRoot<H extends Hash | BinaryHash>(frontier: readonly H[], empty: H, hashNodes: (left: H, right: H) => H): H {
  if (frontier.length === 0) return empty;
  let root = frontier[frontier.length - 1]!;
  for (let index = frontier.length - 2; index >= 0; index -= 1) root = hashNodes(frontier[index]!, root);
  return root;
}

/** MTH(D[n]) of a list of leaf hashes (RFC 9162 §2.1.1). */
export function treeHash(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const split = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, split)), treeHash(leaves.slice(split)));
}

/** PATH(m, D[n]) (RFC 9162 §2.1.3.1): the audit path of leaf `index`. */
export function inclusionPath(leaves: readonly Hash[], index: number): Hash[] {
  if (leaves.length <= 1) return [];
  const split = largestPowerOfTwoBelow(leaves.length);
  return index < split
    ? [...inclusionPath(leaves.slice(0, split), index), treeHash(leaves.slice(split))]
    : [...inclusionPath(leaves.slice(split), index - split), treeHash(leaves.slice(0, split))];
}

/** RFC 9162 §2.1.3.2: does `path` prove `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(leaf: Hash, index: number, size: number, path: readonly Hash[], root: Hash): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= size) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let hash = leaf;
  for (const sibling of path) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      hash = nodeHash(sibling, hash);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      hash = nodeHash(hash, sibling);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && hash.equals(root);
}

export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of `second` leaves with `secondRoot` extends the one of `first` with `firstRoot`? */
export function verifyConsistency(first: number, second: number, firstRoot: Hash, secondRoot: Hash, proof: readonly Hash[]): boolean {
  if (first > second || first < 0) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0) return proof.length === 0;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = BigInt(first - 1);
  let sn = BigInt(second - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const node of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(node, fr);
      sr = nodeHash(node, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, node);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && fr.equals(firstRoot) && sr.equals(secondRoot);
}
