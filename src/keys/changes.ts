import { KeyConfigError, printable } from './errors.ts';
import type { KeySetting } from './errors.ts';
import type { KeyInfo } from './manifest.ts';

export type KeyRefusal = 'fixed' | 'unknown' | 'current' | 'pending';

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

/** Adds `kid`, published from `now`, as the signer from `activatesAt`; one rotation at a time. */
export function withNextKey(keys: readonly KeyInfo[], kid: string, now: Date, activatesAt: Date, setting: KeySetting): KeyInfo[] {
  const pending = keys.find((key) => key.status === 'next');
  if (pending) {
    throw new KeyChangeRefusedError(setting, 'pending', `a rotation is already under way: kid=${pending.kid} signs from ${pending.activatesAt}`);
  }
  return [...keys, { kid, createdAt: now.toISOString(), status: 'next', activatesAt: activatesAt.toISOString() }];
}

/** Marks `kid` retired; refuses the signer and unknown kids. */
export function withRetiredKey(keys: readonly KeyInfo[], kid: string, where: { setting: KeySetting; name: string }): KeyInfo[] {
  const entry = keys.find((key) => key.kid === kid);
  if (!entry) throw new KeyChangeRefusedError(where.setting, 'unknown', `no key with kid=${printable(kid)} in ${where.name}`);
  if (entry.status === 'retired') return [...keys];
  if (entry.status === 'signing') {
    throw new KeyChangeRefusedError(where.setting, 'current', `kid=${kid} is the signing key; rotate first, then retire it`);
  }
  return keys.map((key): KeyInfo => {
    if (key.kid !== kid) return key;
    const { activatesAt: _activatesAt, ...rest } = key;
    return { ...rest, status: 'retired' };
  });
}
