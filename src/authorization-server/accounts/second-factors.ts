import type { Store } from '../../storage/index.ts';
import { newRecoveryCodes, recoveryCodeHash } from './recovery-codes.ts';
import { newTotpSecret, totpStep, totpUri } from './totp.ts';

/** A registered passkey (WebAuthn credential), as @simplewebauthn/server needs it back. */
export interface StoredPasskey {
  /** base64url credential id. */
  id: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports?: string[];
  name: string;
  createdAt: string;
}

interface SecondFactorRecord {
  totp?: { secret: string; enrolledAt: string };
  passkeys?: StoredPasskey[];
}

export interface SecondFactorStatus {
  totp: boolean;
  passkeys: Array<Pick<StoredPasskey, 'id' | 'name' | 'createdAt'>>;
  recoveryCodesLeft: number;
}

export type TotpCheck = 'ok' | 'wrong' | 'replayed';

/** A pending enrolment lives this long between showing the QR code and confirming a code. */
const ENROLMENT_SECONDS = 15 * 60;
/** Longer than the window of steps a code is accepted in. */
const USED_STEP_SECONDS = 5 * 60;

const recordKey = (userId: string) => `mfa:${userId}`;
const enrolmentKey = (userId: string) => `mfa-enrol:${userId}`;
const lastStepKey = (userId: string) => `mfa-totp-step:${userId}`;
const usedStepKey = (userId: string, step: number) => `mfa-totp-used:${userId}:${step}`;
const recoveryTag = (userId: string) => `mfa-recovery:${userId}`;
const recoveryKey = (userId: string, hash: string) => `mfa-recovery:${userId}:${hash}`;

/**
 * Each user's second factors, in the Store under `mfa:<user id>` so every instance sees them:
 * an authenticator app (TOTP, RFC 6238), passkeys, and one-time recovery codes kept as hashes.
 */
export class SecondFactors {
  readonly #store: Store;
  readonly #issuer: string;
  constructor(store: Store, issuer = 'Portcullis') {
    this.#store = store;
    this.#issuer = issuer;
  }

  async status(userId: string): Promise<SecondFactorStatus> {
    const record = await this.#record(userId);
    const codes = await this.#store.findByTag(recoveryTag(userId));
    return {
      totp: record.totp !== undefined,
      passkeys: (record.passkeys ?? []).map(({ id, name, createdAt }) => ({ id, name, createdAt })),
      recoveryCodesLeft: codes.filter((code) => code.consumedAt === undefined).length,
    };
  }

  async hasAny(userId: string): Promise<boolean> {
    const record = await this.#record(userId);
    return record.totp !== undefined || (record.passkeys?.length ?? 0) > 0;
  }

  /** Starts (or continues) adding an authenticator app: the secret and the URI for its QR code. */
  async startTotpEnrolment(userId: string, username: string): Promise<{ secret: string; uri: string }> {
    const pending = (await this.#store.get<{ secret: string }>(enrolmentKey(userId)))?.value.secret;
    const secret = pending ?? newTotpSecret();
    if (!pending) await this.#store.put(enrolmentKey(userId), { secret }, { ttlSeconds: ENROLMENT_SECONDS });
    return { secret, uri: totpUri(secret, username, this.#issuer) };
  }

  /**
   * Finishes the enrolment when the code matches the pending secret: the app is saved and fresh
   * recovery codes (returned once, stored hashed) replace any earlier ones. Undefined: wrong code.
   */
  async confirmTotpEnrolment(userId: string, code: string): Promise<string[] | undefined> {
    const pending = (await this.#store.get<{ secret: string }>(enrolmentKey(userId)))?.value.secret;
    const step = pending === undefined ? undefined : totpStep(pending, code);
    if (pending === undefined || step === undefined) return undefined;
    await this.#store.put(lastStepKey(userId), { step });
    await this.#update(userId, (record) => ({ ...record, totp: { secret: pending, enrolledAt: new Date().toISOString() } }));
    await this.#store.delete(enrolmentKey(userId));
    return this.newRecoveryCodes(userId);
  }

  /** Replaces the user's recovery codes with ten new ones, returned this once. */
  async newRecoveryCodes(userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    await this.#store.deleteByTag(recoveryTag(userId));
    for (const code of codes) {
      await this.#store.put(recoveryKey(userId, recoveryCodeHash(code)), { createdAt: new Date().toISOString() }, { tags: [recoveryTag(userId)] });
    }
    return codes;
  }

  /** A code from the app is good once: a code of a step at or before the last one used is a replay. */
  async checkTotp(userId: string, code: string): Promise<TotpCheck> {
    const secret = (await this.#record(userId)).totp?.secret;
    const step = secret === undefined ? undefined : totpStep(secret, code);
    if (step === undefined) return 'wrong';
    const last = (await this.#store.get<{ step: number }>(lastStepKey(userId)))?.value.step ?? -1;
    if (step <= last) return 'replayed';
    // Two instances checking the same code at once: only one wins.
    if (!(await this.#store.putIfAbsent(usedStepKey(userId, step), {}, { ttlSeconds: USED_STEP_SECONDS }))) return 'replayed';
    await this.#store.put(lastStepKey(userId), { step });
    return 'ok';
  }

  /** True for exactly one use of each recovery code. */
  async useRecoveryCode(userId: string, code: string): Promise<boolean> {
    if (!/^[A-Za-z0-9-\s]{12,20}$/.test(code)) return false;
    return this.#store.consume(recoveryKey(userId, recoveryCodeHash(code)));
  }

  async removeTotp(userId: string): Promise<void> {
    await this.#update(userId, ({ totp: _removed, ...rest }) => rest);
    if (!(await this.hasAny(userId))) await this.#store.deleteByTag(recoveryTag(userId));
  }

  async passkeys(userId: string): Promise<StoredPasskey[]> {
    return (await this.#record(userId)).passkeys ?? [];
  }

  async addPasskey(userId: string, passkey: StoredPasskey): Promise<void> {
    await this.#update(userId, (record) => ({ ...record, passkeys: [...(record.passkeys ?? []).filter((key) => key.id !== passkey.id), passkey] }));
  }

  async updatePasskeyCounter(userId: string, id: string, counter: number): Promise<void> {
    await this.#update(userId, (record) => ({ ...record, passkeys: (record.passkeys ?? []).map((key) => (key.id === id ? { ...key, counter } : key)) }));
  }

  async removePasskey(userId: string, id: string): Promise<void> {
    await this.#update(userId, (record) => ({ ...record, passkeys: (record.passkeys ?? []).filter((key) => key.id !== id) }));
    if (!(await this.hasAny(userId))) await this.#store.deleteByTag(recoveryTag(userId));
  }

  /** Removes every second factor and recovery code of the user (`portcullis users mfa reset`). */
  async reset(userId: string): Promise<void> {
    await Promise.all([
      this.#store.delete(recordKey(userId)), this.#store.delete(enrolmentKey(userId)), this.#store.delete(lastStepKey(userId)),
      this.#store.deleteByTag(recoveryTag(userId)),
    ]);
  }

  async #record(userId: string): Promise<SecondFactorRecord> {
    return (await this.#store.get<SecondFactorRecord>(recordKey(userId)))?.value ?? {};
  }

  async #update(userId: string, change: (record: SecondFactorRecord) => SecondFactorRecord): Promise<void> {
    await this.#store.put(recordKey(userId), change(await this.#record(userId)));
  }
}
