import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config/index.ts';
import { writeFileAtomic } from '../keys/index.ts';
import { silentLogger } from '../log/index.ts';
import { loadAuditKey } from './audit-key.ts';
import { auditLocation } from './configured.ts';
import { listLogFiles } from './files.ts';
import { AuditLog } from './log.ts';

export interface RotationResult {
  /** The new key's note verifier key, for whoever checks the log from outside. */
  verifierKey: string;
  /** Seq of the `audit.key_rotated` record. */
  seq: number;
  /** Where the old key file was kept, when there was one. */
  retiredFile?: string;
}

/**
 * `portcullis audit rotate-key`: a new audit key in KEYS_DIR, handed over in the log itself
 * (`audit.key_rotated`, with the checkpoint after it signed by the old and the new key), so
 * `verify` trusts both. With `oldKeyLost`, the handover says the old key is gone and only the
 * new key signs. Run while the server is stopped (the log's lock refuses otherwise).
 */
export async function rotateAuditKey(config: Config, name: string | undefined, options: { oldKeyLost: boolean }): Promise<RotationResult> {
  if (!name && config.auditSigningKeyPem) throw new ConfigError('AUDIT_SIGNING_KEY_PEM', 'the audit key is set here, so rotate-key cannot replace it; unset it to keep the key in KEYS_DIR');
  if (!name && config.auditSigningKeyPath && existsSync(config.auditSigningKeyPath)) {
    throw new ConfigError('AUDIT_SIGNING_KEY_PATH', 'the audit key is a mounted file, so rotate-key cannot replace it; unset it to keep the key in KEYS_DIR');
  }
  const location = auditLocation(config, name);
  if (!existsSync(location.dir) || (await listLogFiles(location.dir)).segments.length === 0) throw new ConfigError('AUDIT_DIR', `no audit log in ${location.dir}`);
  const keyFile = join(config.keysDir, location.keyFile);
  const next = generateKeyPairSync('ed25519').privateKey;
  const common = { dir: location.dir, origin: location.origin, log: silentLogger() };
  let log: AuditLog;
  if (options.oldKeyLost) {
    log = await AuditLog.open({ ...common, signingKey: next, oldKeyLost: true });
  } else {
    const old = await loadAuditKey({ keysDir: config.keysDir, fileName: location.keyFile, generate: false }).catch((error: unknown) => {
      if (error instanceof ConfigError) throw new ConfigError(error.setting, `${error.message.slice(error.setting.length + 2)}; if it is lost, run rotate-key --old-key-lost`);
      throw error;
    });
    log = await AuditLog.open({ ...common, signingKey: old.privateKey });
    await log.rotateKey(next);
  }
  const seq = log.size - 1;
  const verifierKey = log.verifierKey;
  await log.close();
  const retiredFile = await retire(keyFile);
  await mkdir(config.keysDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(keyFile, next.export({ type: 'pkcs8', format: 'pem' }).toString());
  return { verifierKey, seq, ...(retiredFile ? { retiredFile } : {}) };
}

/** Keeps the old key beside the new one (renamed), so checkpoints it signed stay checkable with it. */
async function retire(keyFile: string): Promise<string | undefined> {
  const old = await readFile(keyFile, 'utf8').catch(() => undefined);
  if (old === undefined) return undefined;
  const retired = `${keyFile}.retired-${new Date().toISOString().replaceAll(':', '')}`;
  await rename(keyFile, retired);
  return retired;
}
