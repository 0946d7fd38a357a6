import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditSink } from '../../audit/index.ts';
import type { Logger } from '../../log/index.ts';
import { recordEvent } from '../audit-trail.ts';
import type { PublicUser } from '../accounts/users.ts';
import type { BreakGlassLimits } from './break-glass-limits.ts';
import type { PamAnswer } from './pam.ts';
import type { ElevatedRequest } from './policy.ts';
import { currentStatus, type Elevation, type ElevationRecords, type Person } from './records.ts';

export const REASON_MIN = 10;
export const REASON_MAX = 500;
export const BREAK_GLASS_REASON_MIN = 20;
export const TICKET_MAX = 100;
export const APPROVER_ROLES = ['approver', 'admin'];

/** A request the user must correct, or a decision that cannot be made; nothing changed. */
export class ElevationRefusal extends Error {
  override readonly name = 'ElevationRefusal';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface ElevationRequestInput {
  interaction: string;
  requester: PublicUser;
  client: { id: string; name: string };
  redirectHost: string;
  wanted: ElevatedRequest;
  durationSeconds: number;
  reason: string;
  ticket: string;
  /** Break-glass: active at once, without an approver. */
  emergency: boolean;
}

export type DecisionOutcome = 'approved' | 'denied' | 'not_found' | 'own_request' | 'expired' | 'already_decided' | 'external';

export interface ElevationServiceDependencies {
  records: ElevationRecords;
  audit: AuditSink;
  log: Logger;
  breakGlass: BreakGlassLimits;
  /** Sends a break-glass alert (ALERT_WEBHOOK_URL) without waiting. */
  alert?: ((alert: Record<string, unknown>) => void) | undefined;
  /** An external PAM system that decides instead of local approvers (PAM_DECISION_URL). */
  pam?: ((elevation: Elevation) => Promise<PamAnswer>) | undefined;
  /** Epoch milliseconds; for tests. */
  now?: () => number;
}

/** How an external PAM system appears as the approver. */
export const PAM_APPROVER: Person = { id: 'pam', name: 'external PAM' };

/**
 * Everything that changes an elevation, for the pages, the console and the CLI alike. Granting
 * steps (requested, approved, break-glass) are on the record before they take effect; ending
 * steps (denied, expired, revoked) take effect even if the log cannot write.
 */
export class ElevationService {
  readonly records: ElevationRecords;
  readonly #deps: ElevationServiceDependencies;
  constructor(deps: ElevationServiceDependencies) {
    this.records = deps.records;
    this.#deps = deps;
  }

  nowSeconds(): number {
    return Math.floor((this.#deps.now ?? Date.now)() / 1000);
  }

  async request(input: ElevationRequestInput): Promise<Elevation> {
    const { rules } = input.wanted;
    if (!Number.isInteger(input.durationSeconds) || input.durationSeconds < 60) throw new ElevationRefusal(400, 'Choose how long you need the access.');
    if (input.durationSeconds > rules.maxDurationSeconds) {
      throw new ElevationRefusal(400, `The longest you can ask for is ${Math.floor(rules.maxDurationSeconds / 60)} minutes.`);
    }
    const reason = input.reason.trim();
    const ticket = input.ticket.trim();
    const reasonMin = input.emergency ? BREAK_GLASS_REASON_MIN : rules.reasonRequired ? REASON_MIN : 0;
    if (reason.length < reasonMin) throw new ElevationRefusal(400, `Give a reason of at least ${reasonMin} characters.`);
    if (reason.length > REASON_MAX) throw new ElevationRefusal(400, `Keep the reason to ${REASON_MAX} characters or fewer.`);
    if (ticket.length > TICKET_MAX || /[\u0000-\u001f]/.test(ticket)) throw new ElevationRefusal(400, `A ticket reference is one line of at most ${TICKET_MAX} characters.`);
    const now = this.nowSeconds();
    const elevation: Elevation = {
      id: randomUUID(), status: 'pending', requester: person(input.requester), client: input.client, resource: input.wanted.resource,
      scopes: input.wanted.scopes, durationSeconds: input.durationSeconds, reason, ...(ticket ? { ticket } : {}), redirectHost: input.redirectHost,
      breakGlass: false, interaction: input.interaction, requestedAt: now, decideBy: now + rules.approvalTimeoutSeconds,
    };
    if (input.emergency) return this.#breakGlass(elevation, input);
    await this.#claim(elevation);
    await this.#deps.audit.append({ type: 'elevation.requested', ...describe(elevation), approval: rules.approval });
    if (rules.approval === 'none') {
      const active = { ...elevation, status: 'active' as const, start: now, end: now + elevation.durationSeconds, decidedAt: now };
      await this.records.create(active);
      return active;
    }
    await this.records.create(elevation);
    this.#deps.log.info({ event: 'elevation_requested', elevation: elevation.id, subject: elevation.requester.id, resource: elevation.resource }, 'elevation waits for an approver');
    return this.current(elevation);
  }

  async #breakGlass(elevation: Elevation, input: ElevationRequestInput): Promise<Elevation> {
    if (!input.wanted.rules.breakGlass || !input.requester.roles.includes('break-glass')) {
      await this.#refused(elevation, 'break_glass_not_allowed');
      throw new ElevationRefusal(403, 'Emergency access is not available to you for this request.');
    }
    const limit = await this.#deps.breakGlass.tryTake(elevation.requester.id);
    if (limit) {
      await this.#refused(elevation, limit === 'user' ? 'break_glass_limit_user' : 'break_glass_limit_everyone');
      throw new ElevationRefusal(429, limit === 'user'
        ? 'You have used emergency access recently; it can be used again later. Ask an approver instead.'
        : 'Emergency access has been used too often in the last hour. Ask an approver instead.');
    }
    await this.#claim(elevation);
    const now = elevation.requestedAt;
    const active: Elevation = { ...elevation, status: 'active', breakGlass: true, start: now, end: now + elevation.durationSeconds, decidedAt: now };
    await this.#deps.audit.append({ type: 'elevation.break_glass', ...describe(active) });
    await this.records.create(active);
    this.#deps.log.warn({ event: 'break_glass', elevation: active.id, subject: active.requester.id, requester: active.requester.name, resource: active.resource, scopes: active.scopes }, 'break-glass elevation: emergency access without approval');
    this.#deps.alert?.({ event: 'elevation.break_glass', ...describe(active), start: active.start, end: active.end });
    return active;
  }

  /**
   * The elevation as it stands now; a pending one past its deadline is marked expired (once, on
   * the record). With an external PAM, a pending one is put to it again.
   */
  async current(elevation: Elevation): Promise<Elevation> {
    if (elevation.status !== 'pending') return elevation;
    if (currentStatus(elevation, this.nowSeconds()) !== 'expired') return this.#deps.pam ? this.#askPam(elevation) : elevation;
    const expired = await this.records.transition(elevation.id, 'pending', () => ({ status: 'expired', decidedAt: this.nowSeconds() }));
    if (expired) await recordEvent(this.#deps.audit, this.#deps.log, { type: 'elevation.expired', ...describe(expired) });
    return expired ?? (await this.records.get(elevation.id)) ?? elevation;
  }

  async decide(id: string, approver: PublicUser, decision: 'approve' | 'deny'): Promise<DecisionOutcome> {
    const found = await this.records.get(id);
    if (!found) return 'not_found';
    const elevation = await this.current(found);
    if (elevation.requester.id === approver.id) {
      await this.#refused(elevation, 'own_request', approver);
      return 'own_request';
    }
    if (elevation.status === 'expired') return 'expired';
    if (elevation.status !== 'pending') return 'already_decided';
    if (this.#deps.pam) return 'external';
    return this.#decide(elevation, approver, decision);
  }

  async #decide(elevation: Elevation, approver: Person, decision: 'approve' | 'deny'): Promise<DecisionOutcome> {
    const { id } = elevation;
    const now = this.nowSeconds();
    if (decision === 'deny') {
      const denied = await this.records.transition(id, 'pending', () => ({ status: 'denied', approver: person(approver), decidedAt: now }));
      if (!denied) return 'already_decided';
      await recordEvent(this.#deps.audit, this.#deps.log, { type: 'elevation.denied', ...describe(denied) });
      return 'denied';
    }
    const approved = await this.records.transition(
      id, 'pending', () => ({ status: 'active', approver: person(approver), decidedAt: now, start: now, end: now + elevation.durationSeconds }),
      (updated) => this.#deps.audit.append({ type: 'elevation.approved', ...describe(updated) }),
    );
    return approved ? 'approved' : 'already_decided';
  }

  /** Ends an active elevation now; tokens carrying it stop working at resource servers within seconds. */
  async revoke(id: string, by: string): Promise<'revoked' | 'not_active' | 'not_found'> {
    const elevation = await this.records.get(id);
    if (!elevation) return 'not_found';
    if (currentStatus(elevation, this.nowSeconds()) !== 'active') return 'not_active';
    const revoked = await this.records.transition(id, 'active', () => ({ status: 'revoked', revokedBy: by, revokedAt: this.nowSeconds() }));
    if (!revoked) return 'not_active';
    await recordEvent(this.#deps.audit, this.#deps.log, { type: 'elevation.revoked', ...describe(revoked), revoked_by: by });
    return 'revoked';
  }

  async acknowledge(id: string, admin: PublicUser): Promise<'acknowledged' | 'not_found' | 'already_acknowledged'> {
    if (!(await this.records.get(id))) return 'not_found';
    const acknowledged = await this.records.transition(id, 'unacknowledged', () => ({ acknowledgedBy: admin.name, acknowledgedAt: this.nowSeconds() }));
    if (!acknowledged) return 'already_acknowledged';
    await recordEvent(this.#deps.audit, this.#deps.log, { type: 'elevation.acknowledged', ...describe(acknowledged), acknowledged_by: admin.name });
    return 'acknowledged';
  }

  async #claim(elevation: Elevation): Promise<void> {
    if (!(await this.records.claimInteraction(elevation.interaction))) throw new ElevationRefusal(409, 'This request was already sent. Reload the page.');
  }

  async #askPam(elevation: Elevation): Promise<Elevation> {
    const answer = await this.#deps.pam!(elevation);
    if (answer === 'approve' || answer === 'deny') await this.#decide(elevation, PAM_APPROVER, answer);
    return (await this.records.get(elevation.id)) ?? elevation;
  }

  async #refused(elevation: Elevation, why: string, actor?: PublicUser): Promise<void> {
    this.#deps.log.warn({ event: 'elevation_refused', elevation: elevation.id, why, subject: elevation.requester.id, ...(actor ? { actor: actor.name } : {}) }, 'elevation step refused');
    await recordEvent(this.#deps.audit, this.#deps.log, { type: 'elevation.refused', ...describe(elevation), why, ...(actor ? { actor: actor.name } : {}) });
  }
}

export function mayApprove(user: Pick<PublicUser, 'roles'>): boolean {
  return user.roles.some((role) => APPROVER_ROLES.includes(role));
}

function person(user: PublicUser | Person): Person {
  return { id: user.id, name: user.name };
}

/** The fields every elevation event carries. */
function describe(elevation: Elevation): Omit<AuditEvent, 'type'> {
  return {
    elevation: elevation.id, subject: elevation.requester.id, requester: elevation.requester.name, client: elevation.client.id,
    resource: elevation.resource, scopes: elevation.scopes, duration: elevation.durationSeconds, reason: elevation.reason,
    ...(elevation.ticket ? { ticket: elevation.ticket } : {}), ...(elevation.approver ? { approver: elevation.approver.name } : {}),
    break_glass: elevation.breakGlass,
  };
}
