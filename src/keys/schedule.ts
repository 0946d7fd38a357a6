import type { KeyInfo } from './manifest.ts';

/**
 * The keys as they stand at `now`. A `next` key whose time has come is the signer and the key
 * it replaces stays published; every instance computes the same answer from the same record,
 * so the switch needs no writer.
 */
export function keysAt(keys: readonly KeyInfo[], now: Date): KeyInfo[] {
  const due = keys
    .filter((key) => key.status === 'next' && Date.parse(key.activatesAt!) <= now.getTime())
    .sort((a, b) => Date.parse(a.activatesAt!) - Date.parse(b.activatesAt!));
  const newest = due.at(-1);
  if (!newest) return keys.map((key) => ({ ...key }));
  return keys.map((key): KeyInfo => {
    if (key.kid === newest.kid) return { ...key, status: 'signing' };
    if (key.status === 'signing' || due.includes(key)) return { ...key, status: 'published', supersededAt: key.supersededAt ?? newest.activatesAt! };
    return { ...key };
  });
}

/** Until when tokens signed by `key` may still be presented (undefined: it never signed, or signs now). */
export function inUseUntil(key: KeyInfo, tokenLifetimeSeconds: number): Date | undefined {
  if (key.status !== 'published' || key.supersededAt === undefined) return undefined;
  return new Date(Date.parse(key.supersededAt) + tokenLifetimeSeconds * 1000);
}
