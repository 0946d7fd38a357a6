import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Client secrets are 256-bit random values, so a fast hash is enough: nothing to brute-force.
const PREFIX = '$sha256$';

export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What the store keeps in place of a client secret. */
export function hashClientSecret(secret: string): string {
  return PREFIX + createHash('sha256').update(secret).digest('base64url');
}

export function isHashedClientSecret(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

/** Compares a presented secret with a stored one, hashed or (static clients from config) plain. */
export function clientSecretMatches(stored: string | undefined, presented: string): boolean {
  if (!stored) return false;
  const expected = isHashedClientSecret(stored) ? stored : hashClientSecret(stored);
  const actual = hashClientSecret(presented);
  return expected.length === actual.length && timingSafeEqual(Buffer.from(expected), Buffer.from(actual));
}
