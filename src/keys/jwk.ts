import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';

export interface PublicSigningJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

export interface PrivateSigningJwk extends PublicSigningJwk {
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
}

function rsaJwk(key: KeyObject): Record<string, unknown> {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') {
    throw new TypeError('expected an RSA key');
  }
  return jwk as Record<string, unknown>;
}

/** RFC 7638 thumbprint (SHA-256, base64url) of the public key: stable across restarts and instances. */
export async function computeKid(privateKey: KeyObject): Promise<string> {
  const { n, e } = rsaJwk(createPublicKey(privateKey));
  return calculateJwkThumbprint({ kty: 'RSA', n: n as string, e: e as string }, 'sha256');
}

export function toPublicJwk(privateKey: KeyObject, kid: string): PublicSigningJwk {
  const { n, e } = rsaJwk(createPublicKey(privateKey));
  return { kty: 'RSA', n: n as string, e: e as string, kid, alg: 'RS256', use: 'sig' };
}

export function toPrivateJwk(privateKey: KeyObject, kid: string): PrivateSigningJwk {
  const jwk = rsaJwk(privateKey);
  const member = (name: string): string => {
    const value = jwk[name];
    if (typeof value !== 'string') throw new TypeError(`RSA private key has no ${name}`);
    return value;
  };
  return {
    ...toPublicJwk(privateKey, kid),
    d: member('d'),
    p: member('p'),
    q: member('q'),
    dp: member('dp'),
    dq: member('dq'),
    qi: member('qi'),
  };
}
