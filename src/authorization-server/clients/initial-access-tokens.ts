import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../../storage/index.ts';

/** Only the SHA-256 of a token is stored: the store never holds a usable token. */
const digest = (token: string) => createHash('sha256').update(token).digest('base64url');
const tokenKey = (hash: string) => `registration:iat:${hash}`;
const usesKey = (hash: string) => `registration:iat-uses:${hash}`;

export interface NewInitialAccessToken {
  ttlSeconds: number;
  /** How many registration requests may present it. */
  uses: number;
}

/** An initial access token for REGISTRATION=token (RFC 7591 §3); shown once to the operator. */
export async function createInitialAccessToken(store: Store, options: NewInitialAccessToken): Promise<{ token: string; expiresAt: number }> {
  const token = randomBytes(32).toString('base64url');
  const createdAt = Math.floor(Date.now() / 1000);
  await store.put(tokenKey(digest(token)), { uses: options.uses, createdAt }, { ttlSeconds: options.ttlSeconds });
  return { token, expiresAt: createdAt + options.ttlSeconds };
}

/**
 * True when the token exists, has not expired and has a use left; takes that use. Every
 * registration request that presents it counts, so concurrent requests cannot overspend it.
 */
export async function redeemInitialAccessToken(store: Store, token: string): Promise<boolean> {
  const hash = digest(token);
  const record = await store.get<{ uses: number }>(tokenKey(hash));
  if (!record?.expiresAt) return false;
  const ttlSeconds = Math.max(1, record.expiresAt - Math.floor(Date.now() / 1000));
  const counter = await store.increment(usesKey(hash), { ttlSeconds });
  return counter.value <= record.value.uses;
}
