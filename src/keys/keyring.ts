import type { KeyObject } from 'node:crypto';
import { printable } from './errors.ts';
import type { KeySetting } from './errors.ts';
import { toPrivateJwk, toPublicJwk } from './jwk.ts';
import type { PrivateSigningJwk, PublicSigningJwk } from './jwk.ts';
import type { KeyStatus } from './manifest.ts';

/** Where the signing key came from; 'generated' means this load created the first key in KEYS_DIR. */
export type KeySource = 'env' | 'file' | 'keys-dir' | 'generated' | 'store';

export interface KeyOrigin {
  setting: KeySetting;
  /** The file or directory, for file and keys-dir sources. */
  path?: string;
}

export interface RingKey {
  kid: string;
  /** Retired keys are left out of the ring. */
  status: KeyStatus;
  privateKey: KeyObject;
}

/**
 * The keys the server signs with and publishes. Key material is only reachable through
 * `privateJwks()`, so logging or serialising the ring itself leaks nothing.
 */
export interface KeyRing {
  readonly source: KeySource;
  readonly origin: KeyOrigin;
  readonly signingKid: string;
  /** Public members only; signing key first, then published keys. Safe to serve as jwks_uri. */
  publicJwks(): { keys: PublicSigningJwk[] };
  /** Private JWKs, signing key first (oidc-provider signs with the first matching key). */
  privateJwks(): { keys: PrivateSigningJwk[] };
}

export function createKeyRing(source: KeySource, origin: KeyOrigin, keys: readonly RingKey[]): KeyRing {
  const signing = keys.filter((key) => key.status === 'signing');
  if (signing.length !== 1 || !signing[0]) throw new TypeError(`a key ring needs exactly one signing key, got ${signing.length}`);
  // A `next` key is published before it signs, so resource servers know it by then.
  const ordered = [signing[0], ...keys.filter((key) => key.status === 'next'), ...keys.filter((key) => key.status === 'published')];
  const privateJwks = ordered.map((key) => toPrivateJwk(key.privateKey, key.kid));
  const publicJwks = ordered.map((key) => toPublicJwk(key.privateKey, key.kid));
  return {
    source,
    origin: { ...origin },
    signingKid: signing[0].kid,
    // Copies, so a caller mutating the result cannot change the ring.
    publicJwks: () => ({ keys: publicJwks.map((jwk) => ({ ...jwk })) }),
    privateJwks: () => ({ keys: privateJwks.map((jwk) => ({ ...jwk })) }),
  };
}

/** One log-safe line, e.g. `signing key kid=… from RSA_PRIVATE_KEY_PATH (/run/secrets/rsa_private_key)`. */
export function describeKeySource(ring: KeyRing): string {
  const { setting, path } = ring.origin;
  const where = path === undefined ? setting : `${setting} (${printable(path)})`;
  if (ring.source === 'generated') return `signing key kid=${ring.signingKid} generated in ${where}`;
  const published = ring.publicJwks().keys.length - 1;
  const more = published > 0 ? `, ${published} more published` : '';
  return `signing key kid=${ring.signingKid} from ${where}${more}`;
}
