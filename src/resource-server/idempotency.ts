import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson } from '../audit/canonical-json.ts';
import type { Store } from '../storage/store.ts';

/** Hex SHA-256 of a value's canonical JSON: equal values (in any key order) give equal hashes. */
export function canonicalHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * Exactly-once execution of write tools, on the Store seam. The first call with a key claims it
 * with an atomic set-if-absent; it runs the tool and stores the first completed result (success
 * or tool error), which every retry with the same key then gets back until the record expires.
 *
 * A claim carries a lease (the tool's time-out plus a margin). A record still "running" after its
 * lease means the process that ran it died mid-call: whether the work happened is unknown, so the
 * key answers "outcome unknown" until it expires and the tool never runs twice (at most once).
 */
export interface IdempotencyOptions {
  store: Store;
  /** How long a completed result is replayed; default 86400 (one day). */
  ttlSeconds?: number;
  /** Refuse write calls that carry no key; default false. */
  required?: boolean;
  /**
   * Calls without a key get one derived from their arguments, so identical calls by one caller
   * within the TTL run once. Two calls meant to be separate but equal are then merged too.
   */
  deriveKeys?: boolean;
  /** A retry while the first call runs waits for its result (default) or is refused at once. */
  whileRunning?: 'wait' | 'reject';
}

export interface IdempotencyScope {
  issuer: string;
  subject: string;
  clientId: string | undefined;
  tool: string;
  key: string;
}

/** A claimed key: this call runs the tool and must complete or release the claim. */
export interface Claim {
  readonly recordKey: string;
  readonly fingerprint: string;
  readonly tool: string;
}

export type RefusalReason = 'key_reused' | 'in_progress' | 'outcome_unknown';

export type Admission =
  | { kind: 'run'; claim: Claim }
  | { kind: 'replay'; result: CallToolResult }
  | { kind: 'refused'; reason: RefusalReason };

type IdempotencyRecord =
  | { state: 'running'; fingerprint: string; leaseUntilMs: number }
  | { state: 'done'; fingerprint: string; result: CallToolResult };

const LEASE_MARGIN_MS = 5_000;
const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 200;

export class IdempotencyRecords {
  readonly #store: Store;
  readonly #ttlSeconds: number;
  readonly #whileRunning: 'wait' | 'reject';
  readonly #now: () => number;

  constructor(options: IdempotencyOptions, now: () => number = Date.now) {
    const ttlSeconds = options.ttlSeconds ?? 86_400;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new TypeError('idempotency ttlSeconds must be a positive whole number');
    this.#store = options.store;
    this.#ttlSeconds = ttlSeconds;
    this.#whileRunning = options.whileRunning ?? 'wait';
    this.#now = now;
  }

  /**
   * Claims the key for this call, or says what the call gets instead. `timeoutMs` is the tool's
   * time-out: the lease of a claim, and how long a retry waits for a running first call.
   */
  async admit(scope: IdempotencyScope, args: unknown, timeoutMs: number): Promise<Admission> {
    const recordKey = `idempotency:${canonicalHash([scope.issuer, scope.subject, scope.clientId ?? null, scope.tool, scope.key])}`;
    const fingerprint = canonicalHash(args ?? {});
    const waitUntil = this.#now() + timeoutMs + LEASE_MARGIN_MS;
    for (let pollMs = FIRST_POLL_MS; ; pollMs = Math.min(pollMs * 2, MAX_POLL_MS)) {
      const running: IdempotencyRecord = { state: 'running', fingerprint, leaseUntilMs: this.#now() + timeoutMs + LEASE_MARGIN_MS };
      if (await this.#store.putIfAbsent(recordKey, running, { ttlSeconds: this.#ttlSeconds })) {
        return { kind: 'run', claim: { recordKey, fingerprint, tool: scope.tool } };
      }
      const record = (await this.#store.get<IdempotencyRecord>(recordKey))?.value;
      if (!record) continue; // expired or released between the two calls: claim again
      if (record.fingerprint !== fingerprint) return { kind: 'refused', reason: 'key_reused' };
      if (record.state === 'done') return { kind: 'replay', result: record.result };
      if (record.leaseUntilMs < this.#now()) return { kind: 'refused', reason: 'outcome_unknown' };
      if (this.#whileRunning === 'reject' || this.#now() >= waitUntil) return { kind: 'refused', reason: 'in_progress' };
      await sleep(pollMs);
    }
  }

  /** Stores the first completed result; retries with the key get it back until the TTL passes. */
  async complete(claim: Claim, result: CallToolResult): Promise<void> {
    const record: IdempotencyRecord = { state: 'done', fingerprint: claim.fingerprint, result };
    await this.#store.put(claim.recordKey, record, { ttlSeconds: this.#ttlSeconds });
  }

  /** Gives the key back when the tool never started, so a retry runs it. */
  async release(claim: Claim): Promise<void> {
    await this.#store.delete(claim.recordKey);
  }
}
