import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { AUDIT_KEY_FILE, loadAuditKey, type AuditKey } from './audit-key.ts';
import { DISABLED_AUDIT, type AuditSink } from './events.ts';
import { listLogFiles } from './files.ts';
import { AuditLog } from './log.ts';
import type { S3Shipper } from './s3/shipper.ts';

/** One audit log as the configuration describes it: the server's own, or a named one beside it (the demo MCP server's). */
export interface AuditTrail {
  sink: AuditSink;
  /** Undefined when AUDIT=off. */
  log?: AuditLog;
  /** The first write; until then appends wait (see `openAuditTrail`). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface AuditLocation {
  dir: string;
  origin: string;
  keyFile: string;
}

/** Where a log lives: `name` undefined is the authorization server's; others sit in a sub-directory with their own origin and key. */
export function auditLocation(config: Config, name?: string): AuditLocation {
  if (!name) return { dir: config.auditDir, origin: config.auditOrigin, keyFile: AUDIT_KEY_FILE };
  return { dir: join(config.auditDir, name), origin: `${config.auditOrigin}/${name}`, keyFile: `audit-${name}-ed25519.pem` };
}

/**
 * The key that signs a log's checkpoints: AUDIT_SIGNING_KEY_PEM / _PATH / KEYS_DIR for the server's;
 * KEYS_DIR for a named one. `generate`: make one when none is found, but only for a log that does
 * not exist yet; a log that lost its key says so (a new key would look like forged checkpoints).
 */
export async function configuredAuditKey(config: Config, name: string | undefined, generate: boolean): Promise<AuditKey> {
  const location = auditLocation(config, name);
  const sources = { ...(name ? {} : { pem: config.auditSigningKeyPem, path: config.auditSigningKeyPath }), keysDir: config.keysDir, fileName: location.keyFile };
  if (!generate || !await logExists(location.dir)) return loadAuditKey({ ...sources, generate });
  try {
    return await loadAuditKey({ ...sources, generate: false });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(error.setting, `${error.message.slice(error.setting.length + 2)}, but the audit log in ${location.dir} exists: restore its key, or if it is lost run portcullis audit rotate-key${name ? ` --log ${name}` : ''} --old-key-lost`);
  }
}

/** The setting a key came from, to name when it does not sign the log. */
export function auditKeySetting(key: AuditKey): string {
  return key.source === 'env' ? 'AUDIT_SIGNING_KEY_PEM' : key.source === 'file' ? 'AUDIT_SIGNING_KEY_PATH' : 'KEYS_DIR';
}

async function logExists(dir: string): Promise<boolean> {
  try {
    const files = await listLogFiles(dir);
    return files.checkpoints.length > 0 || (await Promise.all(files.segments.map(async (segment) => (await stat(join(dir, segment.name))).size))).some((size) => size > 0);
  } catch {
    return false;
  }
}

/**
 * Opens and locks a log without writing to it: `start` is the first write, called once every
 * listener is bound, so a start-up that fails leaves the log as it was.
 */
export async function openAuditTrail(config: Config, log: Logger, name?: string): Promise<AuditTrail> {
  if (config.audit === 'off') return { sink: DISABLED_AUDIT, start: async () => {}, close: async () => {} };
  const location = auditLocation(config, name);
  const key = await configuredAuditKey(config, name, true);
  const shipper = config.auditS3Bucket ? await s3Shipper(config, location.dir, log, name) : undefined;
  const auditLog = await AuditLog.prepare({
    dir: location.dir,
    origin: location.origin,
    signingKey: key.privateKey,
    keySetting: auditKeySetting(key),
    log,
    segmentMaxBytes: config.auditSegmentMaxBytes,
    segmentMaxRecords: config.auditSegmentMaxRecords,
    checkpointEveryRecords: config.auditCheckpointRecords,
    checkpointEverySeconds: config.auditCheckpointSeconds,
    ...(shipper ? { onImmutableFile: (file: string) => shipper.enqueue(file) } : {}),
  });
  return {
    sink: auditLog,
    log: auditLog,
    async start() {
      await auditLog.start();
      await shipper?.start();
      log.info({ dir: location.dir, origin: location.origin, keySource: key.source, records: auditLog.size, s3: config.auditS3Bucket }, 'audit log open');
    },
    async close() {
      await auditLog.close();
      if (!shipper) return;
      // Give the closing checkpoint a moment to reach S3; anything left goes after the next start.
      await Promise.race([shipper.idle(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_UPLOAD_GRACE_MS).unref())]);
      await shipper.close();
    },
  };
}

const SHUTDOWN_UPLOAD_GRACE_MS = 5000;

async function s3Shipper(config: Config, dir: string, log: Logger, name: string | undefined): Promise<S3Shipper> {
  const [{ S3Shipper: Shipper }, { s3ClientFromEnvironment }, { s3Prefix }] = await Promise.all([
    import('./s3/shipper.ts'), import('./s3/client.ts'), import('./s3/prefix.ts'),
  ]);
  return new Shipper({
    client: s3ClientFromEnvironment(), bucket: config.auditS3Bucket!, prefix: s3Prefix(config.auditS3Prefix, name),
    lockMode: config.auditS3LockMode, retentionDays: config.auditS3RetentionDays, dir, log,
  });
}
