import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listLogFiles } from './files.ts';
import { verifyConsistency } from './merkle.ts';
import { openTree, ProofError } from './proof.ts';
import { b64 } from './records.ts';
import { NoteError, parseNote } from './signed-note.ts';

/** An RFC 9162 consistency proof: the tree of the new checkpoint extends the tree of the old one. */
export interface ConsistencyProof {
  old_size: number;
  new_size: number;
  /** Base64 node hashes (RFC 9162 §2.1.4.1). */
  consistency_path: string[];
  /** The two signed notes (C2SP tlog-checkpoint). */
  old_checkpoint: string;
  new_checkpoint: string;
}

/** Proves checkpoint `newSize` extends checkpoint `oldSize` (tree sizes of checkpoints in the log), from the stored subtree hashes. */
export async function proveConsistency(dir: string, oldSize: number, newSize: number): Promise<ConsistencyProof> {
  if (oldSize > newSize) throw new ProofError(`the old checkpoint (${oldSize}) must not be larger than the new one (${newSize})`);
  const files = await listLogFiles(dir);
  const note = async (size: number) => {
    const checkpoint = files.checkpoints.find((candidate) => candidate.size === size);
    if (!checkpoint) throw new ProofError(`no checkpoint of tree size ${size} (they are: ${files.checkpoints.map((candidate) => candidate.size).join(', ') || 'none'})`);
    return readFile(join(dir, checkpoint.name), 'utf8');
  };
  const [oldNote, newNote] = await Promise.all([note(oldSize), note(newSize)]);
  return { old_size: oldSize, new_size: newSize, consistency_path: await consistencyPath(dir, oldSize, newSize), old_checkpoint: oldNote, new_checkpoint: newNote };
}

/** The consistency path between any two tree sizes the log has reached (what a witness asks for). */
export async function consistencyPath(dir: string, oldSize: number, newSize: number): Promise<string[]> {
  if (!(Number.isSafeInteger(oldSize) && Number.isSafeInteger(newSize) && oldSize >= 0 && oldSize <= newSize)) throw new ProofError('the sizes must be whole numbers, old <= new');
  const tree = await openTree(dir, await listLogFiles(dir), newSize);
  try {
    return tree.consistencyPath(oldSize, newSize).map(b64);
  } finally {
    tree.close();
  }
}

/** The newest checkpoint note, undefined before the first. */
export async function latestCheckpoint(dir: string): Promise<string | undefined> {
  const newest = (await listLogFiles(dir)).checkpoints.at(-1);
  return newest ? readFile(join(dir, newest.name), 'utf8') : undefined;
}

/** Checks a consistency proof between two checkpoint notes' roots (their signatures are the caller's business). */
export function checkConsistency(oldNote: string, newNote: string, path: readonly string[]): void {
  let older;
  let newer;
  try {
    older = parseNote(oldNote).checkpoint;
    newer = parseNote(newNote).checkpoint;
  } catch (error) {
    if (error instanceof NoteError) throw new ProofError(`checkpoint: ${error.message}`);
    throw error;
  }
  const ok = verifyConsistency(older.size, newer.size, older.root, newer.root, path.map((hash) => Buffer.from(hash, 'base64')));
  if (!ok) throw new ProofError(`the tree of ${newer.size} records does not extend the tree of ${older.size} records: the log was forked or rewritten`);
}
