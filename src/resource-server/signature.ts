import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { PublicJwk, SupportedAlgorithm } from './algorithms.ts';
import { TokenVerificationError } from './errors.ts';

/** RSA keys below this size are refused, as jose refuses them. */
const MIN_RSA_BITS = 2048;

const DIGEST: Record<SupportedAlgorithm, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512', PS256: 'sha256', ES256: 'sha256' };

/**
 * A JWK as a node:crypto public key, checked to fit `alg`. Verification with it is synchronous:
 * an RSA verify takes tens of microseconds, less than the thread-pool round trip WebCrypto adds.
 */
export function importVerificationKey(jwk: PublicJwk, alg: SupportedAlgorithm): KeyObject {
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  const details = key.asymmetricKeyDetails;
  if (alg === 'ES256') {
    if (key.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') throw new TypeError('ES256 needs a P-256 key');
  } else if (key.asymmetricKeyType !== 'rsa' || (details?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new TypeError(`${alg} needs an RSA key of at least ${MIN_RSA_BITS} bits`);
  }
  return key;
}

/**
 * Checks the signature of a compact JWS whose header was already decoded and accepted, and
 * returns the payload bytes. Header parameters that change how the signature is read (`crit`,
 * `b64`) are refused, as a JWS library without extensions refuses them.
 */
export function verifyCompactSignature(token: string, header: Record<string, unknown>, key: KeyObject, alg: SupportedAlgorithm): Buffer {
  if ('crit' in header || 'b64' in header) {
    throw new TokenVerificationError('unsupported_alg', 'the token uses an unsupported algorithm or header parameter');
  }
  const lastDot = token.lastIndexOf('.');
  const signature = Buffer.from(token.slice(lastDot + 1), 'base64url');
  const signed = Buffer.from(token.slice(0, lastDot), 'ascii');
  let valid: boolean;
  try {
    valid = verify(DIGEST[alg], signed, verifyOptions(key, alg), signature);
  } catch {
    valid = false;
  }
  if (!valid) throw new TokenVerificationError('invalid_signature', 'the token signature is invalid');
  return Buffer.from(token.slice(token.indexOf('.') + 1, lastDot), 'base64url');
}

function verifyOptions(key: KeyObject, alg: SupportedAlgorithm) {
  if (alg === 'PS256') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (alg === 'ES256') return { key, dsaEncoding: 'ieee-p1363' as const };
  return key;
}
