/** The append-only, signed audit log an MCP server hands to its endpoint (`audit`). */
export { AuditLog, type AuditLogOptions } from '../../audit/log.ts';
export { AuditUnavailableError, DISABLED_AUDIT, type AuditEvent, type AuditEventType, type AuditSink } from '../../audit/events.ts';
export { loadAuditKey, type AuditKey, type AuditKeySources } from '../../audit/audit-key.ts';
