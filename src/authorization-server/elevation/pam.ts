import type { Logger } from '../../log/index.ts';
import { alertSignature, SIGNATURE_HEADER } from './alert-webhook.ts';
import type { Elevation } from './records.ts';

export type PamAnswer = 'approve' | 'deny' | 'pending' | 'no_answer';

export interface PamOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  log: Logger;
}

/**
 * Asks an external PAM system (PAM_DECISION_URL) to decide an elevation instead of local
 * approvers: a JSON POST signed like the alert webhook, answered with
 * `{"decision": "approve" | "deny" | "pending"}`. No answer in time, or any other answer, grants
 * nothing (fail closed); the request keeps waiting and is asked again until it expires.
 */
export function pamDecider(options: PamOptions): (elevation: Elevation) => Promise<PamAnswer> {
  return async (elevation) => {
    const body = JSON.stringify({
      elevation: elevation.id, requester: elevation.requester.name, requester_id: elevation.requester.id, client: elevation.client.id,
      resource: elevation.resource, scopes: elevation.scopes, duration: elevation.durationSeconds, reason: elevation.reason,
      ...(elevation.ticket ? { ticket: elevation.ticket } : {}), requested_at: elevation.requestedAt, decide_by: elevation.decideBy,
    });
    try {
      const response = await fetch(options.url, {
        method: 'POST', body, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs),
        headers: { 'content-type': 'application/json', accept: 'application/json', [SIGNATURE_HEADER]: alertSignature(options.secret, body) },
      });
      const answer = (response.ok ? await response.json() : undefined) as { decision?: unknown } | undefined;
      if (answer?.decision === 'approve' || answer?.decision === 'deny' || answer?.decision === 'pending') return answer.decision;
      options.log.warn({ event: 'pam_no_decision', elevation: elevation.id, status: response.status }, 'external PAM gave no decision; nothing granted');
    } catch (error) {
      options.log.warn({ event: 'pam_no_answer', elevation: elevation.id, err: { name: (error as Error).name, message: (error as Error).message } }, 'external PAM did not answer; nothing granted');
    }
    return 'no_answer';
  };
}
