/**
 * What the audit log records. Events name who did what to which thing, never a credential:
 * tokens appear as their `jti`, tool arguments as their SHA-256.
 */
export const AUDIT_EVENT_TYPES = [
  'config.loaded',
  'key.rotated',
  'login.succeeded',
  'login.failed',
  'login.switched_user',
  'consent.granted',
  'consent.denied',
  'token.issued',
  'token.refreshed',
  'token.revoked',
  'client.registered',
  'tool.requested',
  'tool.denied',
  'tool.executed',
  'tool.elevation_used',
  'tool.idempotent_replay',
  'elevation.requested',
  'elevation.approved',
  'elevation.denied',
  'elevation.expired',
  'elevation.revoked',
  'elevation.break_glass',
  'elevation.acknowledged',
  'elevation.refused',
  'audit.origin_changed',
  'audit.key_rotated',
  'audit.recovered',
  'password.changed',
  'second_factor.succeeded',
  'second_factor.failed',
  'second_factor.enrolled',
  'second_factor.removed',
  'second_factor.reset',
] as const;

/** Operator actions from the console or the CLI: `admin.user.disabled`, `admin.keys.rotated`, ... */
export type AdminEventType = `admin.${string}`;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number] | AdminEventType;

export interface AuditEvent {
  type: AuditEventType;
  /** The user, when there is one (token `sub`). */
  subject?: string;
  /** The OAuth client. */
  client?: string;
  tool?: string;
  [field: string]: unknown;
}

/** Where events go: resolves once the event is durable. Both halves depend on this, not on the file log. */
export interface AuditSink {
  append(event: AuditEvent): Promise<{ seq: number }>;
}

/** AUDIT=off: nothing is written and nothing waits. */
export const DISABLED_AUDIT: AuditSink = { append: async () => ({ seq: -1 }) };

/** The append failed: the event is not durable, so the action it guards must not happen. */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
}
