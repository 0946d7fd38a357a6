import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listLogFiles, type LogFiles } from './files.ts';
import { verifyInclusion } from './merkle.ts';
import { leafHashesFrom } from './read-log.ts';
import { readRecord } from './page.ts';
import { SubtreeStore } from './subtrees.ts';
import { b64, leafData, recordLeaf } from './records.ts';
import { openCheckpoint, parseVerifierKey } from './signed-note.ts';

/**
 * An RFC 9162 inclusion proof of one record in the tree a signed checkpoint commits to.
 * Everything needed to check it is in here, plus the log's note verifier key.
 */
export interface InclusionProof {
  seq: number;
  /** The leaf's bytes: canonical JSON of {event, seq, time}. leaf hash = SHA-256(0x00 || leaf_data). */
  leaf_data: string;
  leaf_hash: string;
  tree_size: number;
  /** Base64 sibling hashes, leaf to root (RFC 9162 §2.1.3.1). */
  inclusion_path: string[];
  /** The signed note (C2SP tlog-checkpoint) whose root the path leads to. */
  checkpoint: string;
}

export class ProofError extends Error {
  override readonly name = 'ProofError';
  /** `not_signed_yet`: the record is newer than the newest checkpoint (the next one signs it); otherwise undefined. */
  readonly code: 'not_signed_yet' | undefined;

  constructor(message: string, code?: 'not_signed_yet') {
    super(message);
    this.code = code;
  }
}

/** The proof for record `seq` against the newest checkpoint that covers it, from the stored subtree hashes. */
export async function proveInclusion(dir: string, seq: number): Promise<InclusionProof> {
  const files = await listLogFiles(dir);
  const checkpoint = files.checkpoints.at(-1);
  if (!checkpoint || checkpoint.size <= seq) throw new ProofError(`no checkpoint covers seq ${seq} yet (newest signs ${checkpoint?.size ?? 0} records)`, 'not_signed_yet');
  const record = await readRecord(dir, seq);
  if (!record) throw new ProofError(`record ${seq} is missing or damaged; run portcullis audit verify`);
  const tree = await openTree(dir, files, checkpoint.size);
  try {
    if (!tree.hash(seq, seq + 1).equals(recordLeaf(record))) throw new ProofError(`record ${seq} does not match its stored leaf hash; run portcullis audit verify`);
    return {
      seq,
      leaf_data: leafData(record),
      leaf_hash: b64(recordLeaf(record)),
      tree_size: checkpoint.size,
      inclusion_path: tree.inclusionPath(seq, checkpoint.size).map(b64),
      checkpoint: await readFile(join(dir, checkpoint.name), 'utf8'),
    };
  } finally {
    tree.close();
  }
}

/** The subtree hashes for a tree of `size`, read-only (a running server may be appending). */
export async function openTree(dir: string, files: LogFiles, size: number): Promise<SubtreeStore> {
  const tree = await SubtreeStore.open(dir, size, { writable: false, missing: (from) => leafHashesFrom(dir, files, from) });
  if (tree.size < size) {
    tree.close();
    throw new ProofError(`the log holds fewer records than the checkpoint of ${size} signed; run portcullis audit verify`);
  }
  return tree;
}

/** Checks a proof as a third party would: the note's signature, the leaf hash, the path to the signed root. */
export function checkInclusionProof(proof: InclusionProof, verifierKeyText: string): void {
  let signed;
  try {
    const { name, publicKey } = parseVerifierKey(verifierKeyText);
    signed = openCheckpoint(proof.checkpoint, name, publicKey);
  } catch (error) {
    throw new ProofError(`checkpoint: ${(error as Error).message}`);
  }
  if (signed.size !== proof.tree_size) throw new ProofError(`the checkpoint signs tree size ${signed.size}, not ${proof.tree_size}`);
  const leaf = createHash('sha256').update(Buffer.of(0)).update(proof.leaf_data).digest();
  if ((JSON.parse(proof.leaf_data) as { seq?: unknown }).seq !== proof.seq) throw new ProofError('leaf_data is not the record with this seq');
  const path = proof.inclusion_path.map((hash) => Buffer.from(hash, 'base64'));
  if (!verifyInclusion(leaf, proof.seq, signed.size, path, signed.root)) throw new ProofError('the inclusion path does not lead to the signed root');
}
