import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/index.ts';
import { writeFileAtomic } from '../keys/index.ts';

export interface AuditKeySources {
  /** AUDIT_SIGNING_KEY_PEM. */
  pem?: string | undefined;
  /** AUDIT_SIGNING_KEY_PATH: a mounted secret, used when a file is there. */
  path?: string | undefined;
  /** KEYS_DIR: where the key is generated on first start. */
  keysDir: string;
  /** File name in KEYS_DIR (one per log). */
  fileName?: string;
  /** Generate the key when none is found (the server); readers such as `audit verify` pass false. */
  generate?: boolean;
}

export interface AuditKey {
  privateKey: KeyObject;
  source: 'env' | 'file' | 'keys-dir' | 'generated';
}

export const AUDIT_KEY_FILE = 'audit-ed25519.pem';

/**
 * The dedicated Ed25519 key that signs checkpoints, found like the signing key: env PEM, mounted file, KEYS_DIR.
 *
 * @example
 * const key = await loadAuditKey({ keysDir: './keys', fileName: 'audit-my-mcp-ed25519.pem' });
 */
export async function loadAuditKey(sources: AuditKeySources): Promise<AuditKey> {
  if (sources.pem?.trim()) {
    const pem = !sources.pem.includes('\n') ? sources.pem.replaceAll('\\n', '\n') : sources.pem;
    return { privateKey: parseEd25519(pem, 'AUDIT_SIGNING_KEY_PEM'), source: 'env' };
  }
  if (sources.path) {
    const pem = await readIfPresent(sources.path, 'AUDIT_SIGNING_KEY_PATH');
    if (pem !== undefined) return { privateKey: parseEd25519(pem, 'AUDIT_SIGNING_KEY_PATH'), source: 'file' };
  }
  const file = join(sources.keysDir, sources.fileName ?? AUDIT_KEY_FILE);
  const existing = await readIfPresent(file, 'KEYS_DIR');
  if (existing !== undefined) return { privateKey: parseEd25519(existing, 'KEYS_DIR'), source: 'keys-dir' };
  if (sources.generate === false) throw new ConfigError('KEYS_DIR', `no audit key at ${file} (nor in AUDIT_SIGNING_KEY_PEM or AUDIT_SIGNING_KEY_PATH)`);
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    await mkdir(sources.keysDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  } catch (error) {
    throw new ConfigError('KEYS_DIR', `cannot write the audit key to ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { privateKey, source: 'generated' };
}

function parseEd25519(pem: string, setting: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new ConfigError(setting, 'not a valid private key (expected an unencrypted PKCS#8 PEM)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError(setting, `the audit key must be Ed25519 (got ${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

async function readIfPresent(path: string, setting: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError(setting, `cannot read ${path} (${code ?? 'error'})`);
  }
}
