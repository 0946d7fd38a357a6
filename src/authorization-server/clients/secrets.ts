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
  const expected = storedDigest(stored);
  const actual = createHash('sha256').update(presented).digest();
  return expected !== undefined && timingSafeEqual(expected, actual);
}

/** Digests of stored secrets, worked out once per secret rather than at every token request. */
const storedDigests = new Map<string, Buffer | undefined>();
const REMEMBERED_SECRETS = 1000;

function storedDigest(stored: string): Buffer | undefined {
  let digest = storedDigests.get(stored);
  if (digest === undefined && !storedDigests.has(stored)) {
    if (!isHashedClientSecret(stored)) digest = createHash('sha256').update(stored).digest();
    else {
      const encoded = stored.slice(PREFIX.length);
      const decoded = Buffer.from(encoded, 'base64url');
      // Only a hash this module wrote can match: anything else never does.
      digest = decoded.length === 32 && decoded.toString('base64url') === encoded ? decoded : undefined;
    }
    if (storedDigests.size >= REMEMBERED_SECRETS) storedDigests.clear();
    storedDigests.set(stored, digest);
  }
  return digest;
}
