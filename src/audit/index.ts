/** The audit log: append-only, hash-chained (RFC 9162 Merkle tree), signed checkpoints; verification is offline. */
export { AuditLog, type AuditLogOptions } from './log.ts';
export { AUDIT_EVENT_TYPES, AuditUnavailableError, DISABLED_AUDIT, type AdminEventType, type AuditEvent, type AuditEventType, type AuditSink } from './events.ts';
export { loadAuditKey, AUDIT_KEY_FILE, type AuditKey, type AuditKeySources } from './audit-key.ts';
export { canonicalJson } from './canonical-json.ts';
export { verifierKey, parseVerifierKey } from './signed-note.ts';
export { openAuditTrail, auditLocation, configuredAuditKey, type AuditTrail, type AuditLocation } from './configured.ts';
export { queryLog, queryLogs, logsUnder, allEvents, type AuditQuery } from './query.ts';
export { verifyLog, describeFailure, type VerifyReport, type VerifyFailure, type VerifyOptions } from './verify.ts';
export type { AuditRecord } from './records.ts';
export { proveInclusion, checkInclusionProof, ProofError, type InclusionProof } from './proof.ts';
export { rotateAuditKey, type RotationResult } from './rotate.ts';
export { AUDIT_LOCK_FILE } from './log.ts';
export { recoverLog, type Recovery } from './recover.ts';
export { auditKeySetting } from './configured.ts';
export type { RecordedHandover } from './vouch.ts';
export { proveConsistency, checkConsistency, consistencyPath, latestCheckpoint, type ConsistencyProof } from './consistency.ts';
export { witnessOnce, type WitnessOptions, type WitnessReport } from './witness.ts';
