import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { checkRecord, decodeFrontier } from './check-record.ts';
import { listLogFiles, type LogFiles } from './files.ts';
import type { Hash } from './merkle.ts';
import { b64, parseRecord } from './records.ts';
import { segmentLines, segmentsInRange, type DateRange } from './read-log.ts';
import { NoteError, parseNote } from './signed-note.ts';
import { explainedByLoss, handoversIn, judgeSignatures, vouchedIdentities, type RecordedHandover } from './vouch.ts';

export interface VerifyOptions extends DateRange {
  dir: string;
  /** The checkpoint signer: key name (the origin) and Ed25519 public key. */
  name: string;
  publicKey: KeyObject;
  /** A copy that holds only sealed segments (S3): checkpoints past its end are not a failure. */
  partialTail?: boolean;
  /** Check the segments holding records `from`..`to` (to: the end) instead of a date range. */
  seqs?: { from: number; to?: number | undefined };
  /** The log's handovers, when the caller already has them (otherwise the whole log is read for them). */
  handovers?: RecordedHandover[];
  /** A log being written right now: bytes after the last newline of the active segment are an append in progress, not damage. */
  live?: boolean;
  /** Bytes of a segment read at a time (tests; the default holds about a megabyte whatever the log's size). */
  chunkBytes?: number;
}

export interface VerifyFailure {
  /** Damage (records or checkpoints changed), or a checkpoint by a key the log never vouched for. Default damage. */
  kind?: 'damage' | 'unvouched';
  file: string;
  line?: number;
  seq?: number;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  failure?: VerifyFailure;
  /** Seq of the first and last record checked. */
  firstSeq?: number;
  lastSeq?: number;
  checkpoints: number;
  /** Records after the newest checkpoint (not yet signed). */
  unsigned: number;
  /** Checkpoints beyond the records present (partialTail only). */
  beyondEnd: number;
  /** Checkpoints whose records check out but whose signers the log never vouched for (e.g. a lost key). */
  unvouched: Array<{ file: string; signers: string[] }>;
  /** Handovers the log recorded (origin changes, key rotations), for the report. */
  handovers: RecordedHandover[];
}

export function describeFailure(failure: VerifyFailure): string {
  const where = [failure.file, failure.line !== undefined ? `line ${failure.line}` : '', failure.seq !== undefined ? `seq ${failure.seq}` : ''].filter(Boolean).join(' ');
  return `${where}: ${failure.problem}`;
}

/**
 * Recomputes every leaf hash and tree head, checks each checkpoint's signature and that its
 * root is the root of the records up to its size (so consecutive checkpoints are consistent:
 * each is a prefix of the same tree), and stops at the first broken place. Segments are read as
 * a stream, so the check holds a chunk of a segment at a time, not the segment.
 */
export async function verifyLog(options: VerifyOptions): Promise<VerifyReport> {
  const files = await listLogFiles(options.dir);
  const handovers = options.handovers ?? await handoversIn(options.dir);
  const vouched = await vouchedIdentities(options.dir, files, { name: options.name, publicKey: options.publicKey }, handovers);
  const report: VerifyReport = { ok: true, checkpoints: 0, unsigned: 0, beyondEnd: 0, unvouched: [], handovers };
  const fail = (failure: VerifyFailure): VerifyReport => ({ ...report, ok: false, failure });
  const selected = options.seqs ? segmentsHolding(files, options.seqs) : await segmentsInRange(options.dir, files, options);
  if (!selected) return report;
  let [first, last] = selected;
  // Read on to the first checkpoint that covers the range, so its end is anchored by a signature.
  if (last < files.segments.length - 1) {
    const end = files.segments[last + 1]!.firstSeq;
    const anchor = files.checkpoints.find((checkpoint) => checkpoint.size >= end);
    const anchorSegment = anchor ? files.segments.findLastIndex((segment) => segment.firstSeq < anchor.size) : files.segments.length - 1;
    last = Math.max(last, anchorSegment);
  }
  const startSeq = files.segments[first]!.firstSeq;
  const checkpoints = files.checkpoints.filter((checkpoint) => checkpoint.size > startSeq);
  let nextCheckpoint = 0;
  let previousSigned = { size: startSeq, name: '' };
  let seq = startSeq;
  let frontier: Hash[] | undefined;
  let lastRoot = '';

  const checkCheckpointsUpTo = async (size: number, segmentName: string): Promise<VerifyFailure | undefined> => {
    while (nextCheckpoint < checkpoints.length && checkpoints[nextCheckpoint]!.size <= size) {
      const checkpoint = checkpoints[nextCheckpoint]!;
      nextCheckpoint += 1;
      let note;
      try {
        note = parseNote(await readFile(join(options.dir, checkpoint.name), 'utf8'));
      } catch (error) {
        if (!(error instanceof NoteError)) throw error;
        return { file: checkpoint.name, problem: error.message };
      }
      const verdict = judgeSignatures(note, vouched);
      if (verdict.forged) return { file: checkpoint.name, problem: 'the signature does not verify with the audit key (a checkpoint not made with the audit key)' };
      if (verdict.valid.length === 0 && verdict.unknown.length === 0) return { file: checkpoint.name, problem: 'the checkpoint carries no signature' };
      const signed = note.checkpoint;
      if (verdict.valid.length === 0) {
        // A key the log itself declared lost explains the checkpoints it signed before that; any other unknown signer is refused.
        const explained = explainedByLoss(handovers, checkpoint.size);
        if (!verdict.unknown.some((signer) => explained.has(signer))) {
          return {
            file: checkpoint.name, kind: 'unvouched',
            problem: `signed by ${verdict.unknown.join(', ')}, a key this log never vouched for. If you hold that key, verify with --key and its verifier key; if the audit key was replaced, restore the old one, or record its loss with portcullis audit rotate-key --old-key-lost`,
          };
        }
        report.unvouched.push({ file: checkpoint.name, signers: verdict.unknown });
      }
      else if (!verdict.valid.some((identity) => identity.name === signed.origin)) {
        return { file: checkpoint.name, problem: `origin is ${signed.origin}, expected ${[...new Set(verdict.valid.map((identity) => identity.name))].join(' or ')}` };
      }
      if (signed.size !== checkpoint.size) return { file: checkpoint.name, problem: `the file name says tree size ${checkpoint.size} but the signed size is ${signed.size}` };
      if (b64(signed.root) !== lastRoot) {
        const after = previousSigned.name ? ` after ${previousSigned.name}` : '';
        return {
          file: checkpoint.name,
          problem: `the signed root differs from the records: records seq ${previousSigned.size}..${checkpoint.size - 1}${after} (up to ${segmentName}) were changed or replaced after they were signed`,
        };
      }
      previousSigned = { size: checkpoint.size, name: checkpoint.name };
      if (verdict.valid.length > 0) report.checkpoints += 1;
    }
    return undefined;
  };

  for (let index = first; index <= last; index += 1) {
    const segment = files.segments[index]!;
    if (segment.firstSeq !== seq) return fail({ file: segment.name, problem: `the previous segment ends at seq ${seq - 1} but this one starts at ${segment.firstSeq} (records or a segment are missing)` });
    const lines = segmentLines(options.dir, segment, options.chunkBytes);
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber += 1;
      if (lineNumber === 1) {
        const prev = parseRecord(line)?.prev;
        if (frontier === undefined) frontier = decodeFrontier(prev);
        else if (!prev || prev.join() !== frontier.map(b64).join()) return fail({ file: segment.name, line: 1, seq, problem: 'the tree state carried into this segment does not match the segment before it' });
        if (seq === 0 && frontier.length > 0) return fail({ file: segment.name, line: 1, seq, problem: 'the first record of the log claims earlier records' });
      }
      const check = checkRecord(line, seq, frontier!);
      if (!check.ok) return fail({ file: segment.name, line: lineNumber, seq, problem: check.problem });
      report.firstSeq ??= seq;
      report.lastSeq = seq;
      frontier = check.frontier;
      lastRoot = check.record.root;
      seq += 1;
      const problem = await checkCheckpointsUpTo(seq, segment.name);
      if (problem) return fail(problem);
    }
    if (lineNumber === 0 && index < files.segments.length - 1) return fail({ file: segment.name, problem: 'a sealed segment is empty (truncated)' });
    const appending = options.live === true && index === files.segments.length - 1;
    if (lines.tail.length > 0 && !appending) return fail({ file: segment.name, line: lineNumber + 1, problem: 'the last record is incomplete (torn write; the server cuts it off at its next start)' });
  }
  const reachedEnd = last === files.segments.length - 1;
  const beyond = checkpoints.slice(nextCheckpoint);
  if (reachedEnd && beyond.length > 0) {
    if (!options.partialTail) {
      const lastFile = files.segments[last]!.name;
      return fail({ file: lastFile, problem: `${beyond[0]!.name} signed ${beyond[0]!.size} records but the log ends after ${seq}: records were removed from the end` });
    }
    report.beyondEnd = beyond.length;
  }
  report.unsigned = reachedEnd && beyond.length === 0 ? seq - previousSigned.size : 0;
  return report;
}

/** Indexes [first, last] of the segments holding records `from`..`to`. */
function segmentsHolding(files: LogFiles, seqs: { from: number; to?: number | undefined }): [number, number] | undefined {
  const { segments } = files;
  if (segments.length === 0) return undefined;
  const index = (seq: number) => Math.max(0, segments.findLastIndex((segment) => segment.firstSeq <= seq));
  return [index(seqs.from), seqs.to === undefined ? segments.length - 1 : index(seqs.to)];
}
