import { createHash } from 'node:crypto';
import { addressSubject } from '../../http/ip-address.ts';
import { valueOf, type Live } from '../../settings/index.ts';
import type { Store } from '../../storage/index.ts';

export interface LockoutPolicy {
  /** Failed sign-ins in a row (per username and address) that pause sign-in. */
  threshold: number;
  /** The first pause; each further run of failures doubles it. */
  baseSeconds: number;
  /** No pause is longer than this. */
  maxSeconds: number;
}

const pausesOf = (username: string) => `login-pauses:${createHash('sha256').update(username.toLowerCase()).digest('hex')}`;

/** A day without failures forgets the earlier ones, and the pauses start small again. */
const FAILURE_MEMORY_SECONDS = 24 * 3600;

/**
 * Progressive lockout against password guessing. Failures are counted per (username, address),
 * so guessing from one address cannot lock the real user out from theirs, and every pause is
 * bounded by `maxSeconds`, so no one is locked out for good. A successful sign-in clears it.
 */
export class LoginLockout {
  readonly #store: Store;
  readonly #policy: Live<LockoutPolicy>;
  readonly #onRefused: ((limit: string) => void) | undefined;

  constructor(store: Store, policy: Live<LockoutPolicy>, onRefused?: (limit: string) => void) {
    this.#store = store;
    this.#policy = policy;
    this.#onRefused = onRefused;
  }

  /** Seconds until sign-in may be tried again, or undefined when it may be tried now. */
  async pausedFor(username: string, address: string): Promise<number | undefined> {
    const pause = await this.#store.get<{ untilMs: number }>(this.#key('pause', username, address));
    const remainingMs = pause ? pause.value.untilMs - Date.now() : 0;
    if (remainingMs <= 0) return undefined;
    this.#onRefused?.('login-lockout');
    return Math.ceil(remainingMs / 1000);
  }

  /** Counts a failure; returns the pause in seconds when this failure starts one. */
  async failed(username: string, address: string): Promise<number | undefined> {
    const { threshold, baseSeconds, maxSeconds } = valueOf(this.#policy);
    const failures = await this.#store.increment(this.#key('failures', username, address), { ttlSeconds: FAILURE_MEMORY_SECONDS });
    if (failures.value % threshold !== 0) return undefined;
    const round = failures.value / threshold;
    const seconds = Math.min(maxSeconds, baseSeconds * 2 ** Math.min(round - 1, 30));
    await this.#store.put(this.#key('pause', username, address), { untilMs: Date.now() + seconds * 1000 }, { ttlSeconds: seconds, tags: [pausesOf(username)] });
    return seconds;
  }

  async succeeded(username: string, address: string): Promise<void> {
    await Promise.all([this.#store.delete(this.#key('failures', username, address)), this.#store.delete(this.#key('pause', username, address))]);
  }

  /** Lifts every pause of this username, from any address (`portcullis users unlock`); returns how many. */
  async unlock(username: string): Promise<number> {
    return this.#store.deleteByTag(pausesOf(username));
  }

  #key(kind: string, username: string, address: string): string {
    const who = createHash('sha256').update(`${username.toLowerCase()}\n${addressSubject(address)}`).digest('hex');
    return `login-${kind}:${who}`;
  }
}
