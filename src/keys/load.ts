import { computeKid } from './jwk.ts';
import { createKeyRing } from './keyring.ts';
import type { KeyOrigin, KeyRing, KeySource } from './keyring.ts';
import { loadKeysDir } from './keys-dir.ts';
import { printable } from './errors.ts';
import { parseRsaPrivateKey } from './private-key.ts';
import { readSecretFile } from './secret-file.ts';

export interface LoadKeyRingOptions {
  /** RSA_PRIVATE_KEY_PEM; used when non-blank. */
  pem?: string | undefined;
  /** RSA_PRIVATE_KEY_PATH; used when something exists there. */
  secretPath: string;
  /** KEYS_DIR; the fallback, where a key is generated on first start. */
  keysDir: string;
}

/** Loads the signing keys from the env PEM, else the mounted secret, else the keys dir. */
export async function loadKeyRing(options: LoadKeyRingOptions): Promise<KeyRing> {
  const fixed = await loadFixedKeyRing(options);
  if (fixed) return fixed;
  const { keys, generated } = await loadKeysDir(options.keysDir);
  const ringKeys = keys.map(({ info, privateKey }) => ({ kid: info.kid, status: info.status, privateKey }));
  return createKeyRing(generated ? 'generated' : 'keys-dir', { setting: 'KEYS_DIR', path: options.keysDir }, ringKeys);
}

/** The key from the env PEM or the mounted secret, which the server cannot rotate; undefined when neither is set. */
export async function loadFixedKeyRing(options: Omit<LoadKeyRingOptions, 'keysDir'>): Promise<KeyRing | undefined> {
  if (options.pem !== undefined && options.pem.trim() !== '') {
    return singleKeyRing('env', { setting: 'RSA_PRIVATE_KEY_PEM' }, unescapeNewlines(options.pem));
  }
  const filePem = await readSecretFile(options.secretPath);
  if (filePem !== undefined) {
    return singleKeyRing('file', { setting: 'RSA_PRIVATE_KEY_PATH', path: options.secretPath }, filePem);
  }
  return undefined;
}

async function singleKeyRing(source: KeySource, origin: KeyOrigin, pem: string): Promise<KeyRing> {
  const where = origin.path === undefined ? '' : printable(origin.path);
  const privateKey = parseRsaPrivateKey(pem, origin.setting, where);
  return createKeyRing(source, origin, [{ kid: await computeKid(privateKey), status: 'signing', privateKey }]);
}

/** Env files and some platforms only carry one-line values, so accept a PEM with literal "\n". */
function unescapeNewlines(pem: string): string {
  return !pem.includes('\n') && pem.includes('\\n') ? pem.replaceAll('\\n', '\n') : pem;
}
