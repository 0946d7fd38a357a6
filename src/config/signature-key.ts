import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';

/** The Ed25519 key of CONFIG_SIGNATURE_KEY: the public half verifies, the private half (when given) signs exports. */
export interface ConfigSignatureKey {
  publicKey: KeyObject;
  privateKey?: KeyObject;
  /** Names the key in a signature: the first 16 characters of the base64url SHA-256 of the public key. */
  keyId: string;
}

export const SIGNATURE_KEY_SETTING = 'CONFIG_SIGNATURE_KEY';

/**
 * CONFIG_SIGNATURE_KEY is a PEM (literal `\n` sequences accepted) or the path of a PEM file: an Ed25519
 * private key (this server signs and verifies) or only its public key (this server verifies; sign elsewhere).
 *
 * @example
 * const key = loadConfigSignatureKey(process.env.CONFIG_SIGNATURE_KEY);
 */
export function loadConfigSignatureKey(value: string | undefined): ConfigSignatureKey | undefined {
  if (!value?.trim()) return undefined;
  const pem = value.includes('-----BEGIN') ? (value.includes('\n') ? value : value.replaceAll('\\n', '\n')) : readKeyFile(value.trim());
  const privateKey = tryKey(() => createPrivateKey({ key: pem, format: 'pem' }));
  const publicKey = privateKey ? createPublicKey(privateKey) : tryKey(() => createPublicKey({ key: pem, format: 'pem' }));
  if (!publicKey) throw new ConfigError(SIGNATURE_KEY_SETTING, 'not a valid key (expected an Ed25519 private or public key as PEM, or the path of one)');
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new ConfigError(SIGNATURE_KEY_SETTING, `must be an Ed25519 key (got ${publicKey.asymmetricKeyType ?? 'unknown'})`);
  return { publicKey, ...(privateKey ? { privateKey } : {}), keyId: keyIdOf(publicKey) };
}

function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 16);
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(SIGNATURE_KEY_SETTING, `cannot read ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? 'error'}); give an Ed25519 key as PEM or the path of one`);
  }
}

function tryKey(make: () => KeyObject): KeyObject | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}
