import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { AUDIT_KEY_FILE, loadAuditKey } from './audit-key.ts';
import { DISABLED_AUDIT, type AuditSink } from './events.ts';
import { AuditLog } from './log.ts';

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

export async function openAuditTrail(config: Config, log: Logger, name?: string): Promise<AuditTrail> {
  if (config.audit === 'off') return { sink: DISABLED_AUDIT, close: async () => {} };
  const location = auditLocation(config, name);
  const key = await loadAuditKey({
    // The env/mounted key is the server's; a named log always has its own key in KEYS_DIR.
    ...(name ? {} : { pem: config.auditSigningKeyPem, path: config.auditSigningKeyPath }),
    keysDir: config.keysDir, fileName: location.keyFile,
  });
  const auditLog = await AuditLog.open({
    dir: location.dir,
    origin: location.origin,
    signingKey: key.privateKey,
    log,
    segmentMaxBytes: config.auditSegmentMaxBytes,
    segmentMaxRecords: config.auditSegmentMaxRecords,
    checkpointEveryRecords: config.auditCheckpointRecords,
    checkpointEverySeconds: config.auditCheckpointSeconds,
  });
  log.info({ dir: location.dir, origin: location.origin, keySource: key.source, records: auditLog.size }, 'audit log open');
  return { sink: auditLog, log: auditLog, close: () => auditLog.close() };
}
