import { createPrivateKey, generateKeyPair } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { KeyConfigError } from './errors.ts';
import type { KeySetting } from './errors.ts';

export const MIN_RSA_BITS = 2048;
const GENERATED_RSA_BITS = 2048;

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * Parses a PKCS#8 or PKCS#1 PEM and checks it is an RSA key of at least MIN_RSA_BITS.
 * `where` prefixes the messages (e.g. a file name) so the operator knows which key is wrong.
 */
export function parseRsaPrivateKey(pem: string, setting: KeySetting, where = ''): KeyObject {
  const prefix = where ? `${where}: ` : '';
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new KeyConfigError(setting, `${prefix}RSA private key is encrypted; provide an unencrypted PKCS#8 or PKCS#1 PEM`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // Report our own wording only: the operator needs the setting, not OpenSSL's decoder trace.
    throw new KeyConfigError(setting, `${prefix}not a valid RSA private key (expected a PKCS#8 or PKCS#1 PEM)`);
  }
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type !== 'rsa') {
    throw new KeyConfigError(setting, `${prefix}key type is ${type}; an RSA key is required for RS256`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new KeyConfigError(setting, `${prefix}RSA key is ${bits} bits; at least ${MIN_RSA_BITS} are required`);
  }
  return key;
}

export async function generateRsaPrivateKey(): Promise<KeyObject> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: GENERATED_RSA_BITS });
  return privateKey;
}

export function toPkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
