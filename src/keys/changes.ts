import { KeyConfigError, printable } from './errors.ts';
import type { KeySetting } from './errors.ts';
import type { KeyInfo } from './manifest.ts';
import { inUseUntil } from './schedule.ts';

export type KeyRefusal = 'fixed' | 'unknown' | 'current' | 'pending' | 'in_use';

/** A rotate or retire that was not done; `detail` is the plain sentence for a page. Nothing changed. */
export class KeyChangeRefusedError extends KeyConfigError {
  readonly code: KeyRefusal;
  readonly detail: string;

  constructor(setting: KeySetting, code: KeyRefusal, detail: string) {
    super(setting, detail);
    this.code = code;
    this.detail = detail;
  }
}

/** Adds `kid` as the next signer from `now + delaySeconds`; one rotation at a time. */
export function withNextKey(keys: readonly KeyInfo[], kid: string, now: Date, delaySeconds: number, setting: KeySetting): KeyInfo[] {
  const pending = keys.find((key) => key.status === 'next');
  if (pending) {
    throw new KeyChangeRefusedError(setting, 'pending', `a rotation is already under way: kid=${pending.kid} signs from ${pending.activatesAt}`);
  }
  const activatesAt = new Date(now.getTime() + delaySeconds * 1000).toISOString();
  return [...keys, { kid, createdAt: now.toISOString(), status: 'next', activatesAt }];
}

export interface RetireOptions {
  /** The longest access-token lifetime: a key that stopped signing more recently may still verify live tokens. */
  tokenLifetimeSeconds: number;
  /** Retire even though tokens it signed may still be in use. */
  force: boolean;
}

/** Marks `kid` retired; refuses the signer, unknown kids, and (without force) a key whose tokens may still be live. */
export function withRetiredKey(keys: readonly KeyInfo[], kid: string, now: Date, options: RetireOptions, where: { setting: KeySetting; name: string }): KeyInfo[] {
  const entry = keys.find((key) => key.kid === kid);
  if (!entry) throw new KeyChangeRefusedError(where.setting, 'unknown', `no key with kid=${printable(kid)} in ${where.name}`);
  if (entry.status === 'retired') return [...keys];
  if (entry.status === 'signing') {
    throw new KeyChangeRefusedError(where.setting, 'current', `kid=${kid} is the signing key; rotate first, then retire it`);
  }
  const until = inUseUntil(entry, options.tokenLifetimeSeconds);
  if (!options.force && until && until > now) {
    throw new KeyChangeRefusedError(where.setting, 'in_use', `kid=${kid} signed tokens that stay valid until ${until.toISOString()}; retiring it now makes them fail`);
  }
  return keys.map((key): KeyInfo => {
    if (key.kid !== kid) return key;
    const { activatesAt: _activatesAt, ...rest } = key;
    return { ...rest, status: 'retired' };
  });
}
