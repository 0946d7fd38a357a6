import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/index.ts';
import { listLogFiles, type LogFiles } from './files.ts';
import { parseNote, parseVerifierKey } from './signed-note.ts';
import { describeFailure, verifyLog, type VerifyReport } from './verify.ts';
import { handoversIn, type RecordedHandover } from './vouch.ts';

/** The outcome of the newest check of the log, as the console shows it. */
export interface VerificationStatus {
  /** When the check finished (ISO time). */
  checkedAt: string;
  /** `nothing_signed`: no checkpoint yet, so there is nothing to check against. */
  result: 'verified' | 'failed' | 'nothing_signed';
  /** What is wrong, when failed. */
  problem?: string;
  /** The newest checkpoint found intact: tree size and base64 root. Kept from the last good check when one fails. */
  verified?: { size: number; root: string };
  /** Records read this time (seq range). */
  checked?: { from: number; to: number };
  /** Which older segment the next check re-reads (one per check, round the log). */
  sweep: number;
  /** `schedule`, or the subject of the administrator who asked. */
  trigger: string;
  /** `audit.recovered` records seen: a new one explains records cut from the end. */
  recoveries?: number;
}

/** Where the status is kept (the Store, so every console page and a restart see the same). */
export interface VerificationStatusStore {
  get(): Promise<VerificationStatus | undefined>;
  put(status: VerificationStatus): Promise<void>;
}

/**
 * Checks the audit log while the server writes it, with a bounded cost per check: the records
 * since the last intact checkpoint (recomputed and held against every newer signed checkpoint,
 * which proves the new tree extends the verified one), plus one older segment in turn, so tampering
 * anywhere is found within as many checks as there are segments. After a failure every check
 * reads the whole log until it verifies again.
 */
export class AuditVerifier {
  readonly #dir: string;
  readonly #verifierKey: string;
  readonly #statuses: VerificationStatusStore;
  readonly #now: () => Date;
  #handovers: { list: RecordedHandover[]; scannedTo: number } | undefined;
  #running: Promise<VerificationStatus> | undefined;

  constructor(options: { dir: string; verifierKey: string; statuses: VerificationStatusStore; now?: () => Date }) {
    this.#dir = options.dir;
    this.#verifierKey = options.verifierKey;
    this.#statuses = options.statuses;
    this.#now = options.now ?? (() => new Date());
  }

  status(): Promise<VerificationStatus | undefined> {
    return this.#statuses.get();
  }

  /** One check now; a check already running is shared rather than started twice. */
  verify(trigger = 'schedule'): Promise<VerificationStatus> {
    this.#running ??= this.#check(trigger).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Checks now and then every `seconds` (0: only when asked). A failed check is logged as an error each time; nothing is thrown. */
  schedule(seconds: number, log: Logger): { stop(): Promise<void> } {
    const check = () => void this.verify().then((status) => {
      if (status.result === 'failed') log.error({ event: 'audit_verify_failed', problem: status.problem }, 'audit log check failed: run portcullis audit verify');
    }, (error: unknown) => log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'audit log check could not run'));
    const timer = seconds > 0 ? setInterval(check, seconds * 1000).unref() : undefined;
    if (timer) check();
    return {
      stop: async () => {
        clearInterval(timer);
        await this.#running?.catch(() => {});
      },
    };
  }

  async #check(trigger: string): Promise<VerificationStatus> {
    const previous = await this.#statuses.get();
    const files = await listLogFiles(this.#dir);
    const handovers = await this.#knownHandovers();
    const recoveries = handovers.filter((handover) => handover.type === 'audit.recovered').length;
    const outcome = await this.#outcome(files, previous, handovers, recoveries > (previous?.recoveries ?? 0));
    const newest = files.checkpoints.at(-1);
    const checkedAt = this.#now().toISOString();
    const kept = { sweep: previous?.sweep ?? 0, trigger, recoveries, ...(previous?.verified ? { verified: previous.verified } : {}), ...(outcome.checked ? { checked: outcome.checked } : {}) };
    let status: VerificationStatus;
    if (outcome.problem) status = { ...kept, checkedAt, result: 'failed', problem: outcome.problem };
    else if (!newest) status = { ...kept, checkedAt, result: 'nothing_signed' };
    else status = { ...kept, checkedAt, result: 'verified', verified: { size: newest.size, root: await rootOf(this.#dir, newest.name) }, sweep: outcome.sweep ?? 0 };
    await this.#statuses.put(status);
    return status;
  }

  /** A recovery the log recorded since the last check explains records and checkpoints that are gone: read the whole log again. */
  async #outcome(files: LogFiles, previous: VerificationStatus | undefined, handovers: RecordedHandover[], recovered: boolean): Promise<Outcome> {
    const verified = previous?.verified;
    if (verified && !recovered) {
      const removed = await this.#removedSince(files, verified);
      if (removed) return { problem: removed };
    }
    if (files.checkpoints.length === 0) return {};
    return previous?.result === 'verified' && verified && !recovered ? this.#sinceVerified(files, verified, previous.sweep, handovers) : this.#whole(handovers);
  }

  /** The checkpoint verified last time must still be there, unchanged, and nothing signed after it may be gone. */
  async #removedSince(files: LogFiles, verified: { size: number; root: string }): Promise<string | undefined> {
    const newestSize = files.checkpoints.at(-1)?.size;
    if (newestSize === undefined) return `no checkpoint is left, but one of ${verified.size} records was verified before: checkpoints were removed`;
    if (newestSize < verified.size) return `the newest checkpoint signs ${newestSize} records, but ${verified.size} were verified before: records were removed from the end`;
    const kept = files.checkpoints.find((checkpoint) => checkpoint.size === verified.size);
    const keptRoot = kept ? await rootOf(this.#dir, kept.name).catch(() => undefined) : undefined;
    return keptRoot === verified.root ? undefined : `the checkpoint of ${verified.size} records that was verified before is missing or changed`;
  }

  async #whole(handovers: RecordedHandover[]): Promise<Outcome> {
    const report = await this.#verify({}, handovers);
    return report.ok ? { checked: span(report, 0), sweep: 0 } : { problem: describeFailure(report.failure!), checked: span(report, 0) };
  }

  async #sinceVerified(files: LogFiles, verified: { size: number; root: string }, sweep: number, handovers: RecordedHandover[]): Promise<Outcome> {
    const from = Math.max(0, verified.size - 1);
    const recent = await this.#verify({ seqs: { from } }, handovers);
    if (!recent.ok) return { problem: describeFailure(recent.failure!), checked: span(recent, from) };
    const older = files.segments.slice(0, Math.max(0, files.segments.findLastIndex((segment) => segment.firstSeq <= from)));
    if (older.length === 0) return { checked: span(recent, from), sweep: 0 };
    const segment = older[sweep % older.length]!;
    const swept = await this.#verify({ seqs: { from: segment.firstSeq, to: segment.firstSeq } }, handovers);
    if (!swept.ok) return { problem: describeFailure(swept.failure!), checked: span(swept, segment.firstSeq) };
    return { checked: span(recent, from), sweep: (sweep % older.length) + 1 };
  }

  #verify(range: { seqs?: { from: number; to?: number } }, handovers: RecordedHandover[]): Promise<VerifyReport> {
    const { name, publicKey } = parseVerifierKey(this.#verifierKey);
    return verifyLog({ dir: this.#dir, name, publicKey, live: true, handovers, ...range });
  }

  /** The log's handover records, read once and then only from where the last check stopped. */
  async #knownHandovers(): Promise<RecordedHandover[]> {
    const known = this.#handovers ?? { list: [], scannedTo: 0 };
    const { segments } = await listLogFiles(this.#dir);
    const found = await handoversIn(this.#dir, known.scannedTo);
    const list = [...known.list, ...found.filter((handover) => !known.list.some((seen) => seen.seq === handover.seq))];
    this.#handovers = { list, scannedTo: segments.at(-1)?.firstSeq ?? 0 };
    return list;
  }
}

interface Outcome {
  problem?: string;
  checked?: { from: number; to: number };
  sweep?: number;
}

async function rootOf(dir: string, checkpointName: string): Promise<string> {
  return parseNote(await readFile(join(dir, checkpointName), 'utf8')).checkpoint.root.toString('base64');
}

const span = (report: VerifyReport, from: number) => ({ from: report.firstSeq ?? from, to: report.lastSeq ?? from });
