import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { AUDIT_KEY_FILE, loadAuditKey, type AuditKey } from './audit-key.ts';
import { DISABLED_AUDIT, type AuditSink } from './events.ts';
import { AuditLog } from './log.ts';
import type { S3Shipper } from './s3/shipper.ts';

/** One audit log as the configuration describes it: the server's own, or a named one beside it (the demo MCP server's). */
export interface AuditTrail {
  sink: AuditSink;
  /** Undefined when AUDIT=off. */
  log?: AuditLog;
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

/** The key that signs a log's checkpoints: AUDIT_SIGNING_KEY_PEM / _PATH / KEYS_DIR for the server's; KEYS_DIR for a named one. */
export function configuredAuditKey(config: Config, name: string | undefined, generate: boolean): Promise<AuditKey> {
  return loadAuditKey({
    ...(name ? {} : { pem: config.auditSigningKeyPem, path: config.auditSigningKeyPath }),
    keysDir: config.keysDir, fileName: auditLocation(config, name).keyFile, generate,
  });
}

export async function openAuditTrail(config: Config, log: Logger, name?: string): Promise<AuditTrail> {
  if (config.audit === 'off') return { sink: DISABLED_AUDIT, close: async () => {} };
  const location = auditLocation(config, name);
  const key = await configuredAuditKey(config, name, true);
  const shipper = config.auditS3Bucket ? await s3Shipper(config, location.dir, log, name) : undefined;
  const auditLog = await AuditLog.open({
    dir: location.dir,
    origin: location.origin,
    signingKey: key.privateKey,
    log,
    segmentMaxBytes: config.auditSegmentMaxBytes,
    segmentMaxRecords: config.auditSegmentMaxRecords,
    checkpointEveryRecords: config.auditCheckpointRecords,
    checkpointEverySeconds: config.auditCheckpointSeconds,
    ...(shipper ? { onImmutableFile: (file: string) => shipper.enqueue(file) } : {}),
  });
  await shipper?.start();
  log.info({ dir: location.dir, origin: location.origin, keySource: key.source, records: auditLog.size, s3: config.auditS3Bucket }, 'audit log open');
  return {
    sink: auditLog,
    log: auditLog,
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
