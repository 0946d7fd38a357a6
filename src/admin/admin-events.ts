import { userInfo } from 'node:os';
import type { AdminEventType, AuditSink } from '../audit/index.ts';
import { BodyError } from '../http/body.ts';
import type { Logger } from '../log/index.ts';

/** Who did it: a console user (their subject) or someone at the command line. */
export interface AdminActor {
  /** The admin's user id, or `cli:<OS user>`. */
  subject: string;
  name: string;
  via: 'console' | 'cli' | 'schedule';
}

export function consoleActor(user: { id: string; name: string }): AdminActor {
  return { subject: user.id, name: user.name, via: 'console' };
}

/** The person running the `portcullis` command, as far as the OS knows them. */
export function cliActor(): AdminActor {
  let name = 'cli';
  try {
    name = userInfo().username || 'cli';
  } catch {
    // No passwd entry (some containers): "cli" says enough.
  }
  return { subject: `cli:${name}`, name, via: 'cli' };
}

export interface AdminEvent {
  type: AdminEventType;
  actor: AdminActor;
  [detail: string]: unknown;
}

/** The action was not put on the record, so it was not done (or was undone): a 503 page says so. */
export class AdminEventNotRecorded extends BodyError {
  constructor() {
    super(503, 'The change could not be recorded in the audit log, so it was not made. Try again in a moment.');
  }
}

/**
 * Appends an `admin.*` event with the admin as its subject and resolves once it is durable;
 * throws AdminEventNotRecorded otherwise. Never put a password, secret or token in `details`.
 */
export async function recordAdminEvent(audit: AuditSink, log: Logger, event: AdminEvent): Promise<void> {
  const { type, actor, ...details } = event;
  try {
    await audit.append({ ...details, type, subject: actor.subject, actor: actor.name, via: actor.via });
  } catch (error) {
    log.error({ err: { name: (error as Error).name, message: (error as Error).message }, event: type }, 'admin event not recorded');
    throw new AdminEventNotRecorded();
  }
}

/**
 * Write-ahead for a change that can be undone: apply it, record it, and if the record fails,
 * undo it and throw AdminEventNotRecorded, so nobody is told it happened when the log says nothing.
 * A change that cannot be undone records first (`recordAdminEvent`) and applies after.
 */
export async function auditedChange<T>(
  audit: AuditSink, log: Logger, event: AdminEvent | ((result: T) => AdminEvent), apply: () => Promise<T>, undo: (result: T) => Promise<unknown>,
): Promise<T> {
  const result = await apply();
  try {
    await recordAdminEvent(audit, log, typeof event === 'function' ? event(result) : event);
  } catch (error) {
    await undo(result).catch((undoError: unknown) => log.error({ err: { message: (undoError as Error).message } }, 'undoing an unrecorded admin change failed'));
    throw error;
  }
  return result;
}
