import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../keys/index.ts';
import { checkConsistency } from './consistency.ts';
import { ProofError } from './proof.ts';
import { NoteError, openCheckpoint, parseNote, parseVerifierKey } from './signed-note.ts';

export interface WitnessReport {
  /** first: nothing seen before; same: no new records; consistent: the new tree extends the last one; fork / rollback: an alert. */
  status: 'first' | 'same' | 'consistent' | 'fork' | 'rollback';
  size: number;
  previousSize?: number;
  detail?: string;
}

export interface WitnessOptions {
  /** Where the newest signed checkpoint is served, e.g. https://auth.example.com/audit/checkpoint. */
  url: string;
  /** The last checkpoint this witness accepted. */
  stateFile: string;
  /** The log's note verifier key: checkpoints not signed by it are refused. */
  verifierKey?: string | undefined;
}

/**
 * One look at a log from outside: fetch its newest checkpoint, check it extends the last one this
 * witness accepted (an RFC 9162 consistency proof against the root kept here, not the server's
 * word), and keep it. Two different trees for one log, or a shrinking one, is an alert; the kept
 * checkpoint then stays as it was, as evidence.
 */
export async function witnessOnce(options: WitnessOptions): Promise<WitnessReport> {
  const note = await fetchText(options.url);
  let current;
  try {
    current = options.verifierKey ? signedBy(note, options.verifierKey) : parseNote(note).checkpoint;
  } catch (error) {
    if (error instanceof NoteError) throw new ProofError(`${options.url}: ${error.message}`);
    throw error;
  }
  const previousNote = await readFile(options.stateFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const keep = async () => {
    await mkdir(dirname(options.stateFile), { recursive: true, mode: 0o700 });
    await writeFileAtomic(options.stateFile, note);
  };
  if (previousNote === undefined) {
    await keep();
    return { status: 'first', size: current.size };
  }
  const previous = parseNote(previousNote).checkpoint;
  const seen = { size: current.size, previousSize: previous.size };
  if (current.size < previous.size) return { ...seen, status: 'rollback', detail: `the log shrank from ${previous.size} to ${current.size} records` };
  if (current.size === previous.size) {
    if (current.root.equals(previous.root)) return { ...seen, status: 'same' };
    return { ...seen, status: 'fork', detail: `two different trees of ${current.size} records` };
  }
  const proofUrl = new URL(options.url.replace(/checkpoint\/?$/, 'consistency'));
  proofUrl.search = new URLSearchParams({ old: String(previous.size), new: String(current.size) }).toString();
  try {
    const { consistency_path: path } = JSON.parse(await fetchText(proofUrl.href)) as { consistency_path: string[] };
    checkConsistency(previousNote, note, Array.isArray(path) ? path : []);
  } catch (error) {
    return { ...seen, status: 'fork', detail: (error as Error).message };
  }
  await keep();
  return { ...seen, status: 'consistent' };
}

function signedBy(note: string, verifierKey: string) {
  const { name, publicKey } = parseVerifierKey(verifierKey);
  return openCheckpoint(note, name, publicKey);
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new ProofError(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
  return text;
}
