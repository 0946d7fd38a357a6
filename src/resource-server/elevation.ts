import { LruCache } from './lru.ts';
import type { PolicyDecision, ToolPolicy } from './policy.ts';
import type { VerifiedToken } from './verified-token.ts';

/** The `elevation` claim Portcullis puts in a token minted under an elevation. */
export interface ElevationClaim {
  id: string;
  reason: string;
  approver?: string;
  start: number;
  end: number;
}

/**
 * How privileged tools (`requiresElevation`) are guarded.
 * - `elevation` (Portcullis): the token carries an unexpired `elevation` claim and the issuer
 *   says, live, that it is still active; a revoked elevation is refused on the next call.
 * - `recent-sign-in`: the weaker RFC 9470 rule for other issuers: `auth_time` within
 *   `elevationMaxAgeSeconds`. A recent password proves presence, not a reason or an approval.
 */
export type ElevationRule =
  | ({ rule: 'elevation' } & ElevationCheckOptions)
  | { rule: 'recent-sign-in' };

export interface ElevationCheckOptions {
  /** The live status of an elevation; default `<token issuer>/elevations/<id>`. */
  statusUrl?: (issuer: string, id: string) => string;
  /** How long a status answer is reused, at most 5 s (revocations are seen within it); default 2 s. */
  cacheSeconds?: number;
  /**
   * Where a refusal for an elevated scope is reported, so the client's next refresh answers
   * `invalid_grant` and it asks the user again (MCP SDK 1.x refreshes before it re-authorizes);
   * default `<token issuer>/elevations/step-up`; `false`: not reported.
   */
  stepUpUrl?: ((issuer: string) => string) | false;
  /** Default 3000 ms; no answer in time refuses the call. */
  timeoutMs?: number;
  /** Epoch milliseconds; for tests. */
  now?: () => number;
}

/** The token's elevation claim, when it has a well-formed one. */
export function elevationClaim(token: Pick<VerifiedToken, 'claims'>): ElevationClaim | undefined {
  const claim = token.claims.elevation as Partial<ElevationClaim> | undefined;
  if (!claim || typeof claim !== 'object' || typeof claim.id !== 'string' || typeof claim.end !== 'number' || typeof claim.start !== 'number') return undefined;
  return { id: claim.id, reason: String(claim.reason ?? ''), start: claim.start, end: claim.end, ...(typeof claim.approver === 'string' ? { approver: claim.approver } : {}) };
}

/** Decides privileged calls under the `elevation` rule; a refusal is the step-up 403 (insufficient_scope). */
export function elevationGate(options: ElevationCheckOptions): {
  decide(tool: string, policy: ToolPolicy, token: VerifiedToken): Promise<PolicyDecision>;
  askForStepUp(rawToken: string, token: VerifiedToken, scopes: readonly string[]): Promise<void>;
} {
  const cacheMs = Math.min(options.cacheSeconds ?? 2, 5) * 1000;
  const now = options.now ?? Date.now;
  const statusUrl = options.statusUrl ?? ((issuer: string, id: string) => `${issuer.replace(/\/$/, '')}/elevations/${encodeURIComponent(id)}`);
  const cache = new LruCache<string, { active: boolean; until: number }>(1000);
  const stepUpUrl = options.stepUpUrl === false ? undefined : options.stepUpUrl ?? ((issuer: string) => `${issuer.replace(/\/$/, '')}/elevations/step-up`);

  async function active(issuer: string, id: string): Promise<boolean | 'unknown'> {
    const cached = cache.get(id);
    if (cached && cached.until > now()) return cached.active;
    try {
      const response = await fetch(statusUrl(issuer, id), { signal: AbortSignal.timeout(options.timeoutMs ?? 3000), redirect: 'error', headers: { accept: 'application/json' } });
      if (!response.ok && response.status !== 404) return 'unknown';
      const isActive = ((await response.json()) as { active?: unknown } | undefined)?.active === true;
      cache.set(id, { active: isActive, until: now() + cacheMs });
      return isActive;
    } catch {
      return 'unknown'; // fail closed: no answer, no privileged call
    }
  }

  return {
    async decide(tool, policy, token) {
      const refuse = (why: string): PolicyDecision => ({ allowed: false, reason: 'insufficient_scope', missingScopes: policy.scopes, requiredScopes: policy.scopes, why: `${tool} needs ${why}` });
      const claim = elevationClaim(token);
      if (!claim) return refuse(`an elevation of ${policy.scopes.join(' ')}`);
      if (claim.end * 1000 <= now()) return refuse('a new elevation: the last one has ended');
      const status = await active(token.issuer, claim.id);
      if (status === 'unknown') return refuse('an elevation the authorization server confirms, and it could not be asked; try again');
      if (!status) return refuse('a new elevation: this one is no longer active');
      return { allowed: true };
    },
    // Awaited before the 403 goes out, so the client's refresh right after it sees the report.
    // Best effort: without it the client still gets the 403, as with any other issuer.
    async askForStepUp(rawToken, token, scopes) {
      if (!stepUpUrl) return;
      try {
        const response = await fetch(stepUpUrl(token.issuer), {
          method: 'POST', signal: AbortSignal.timeout(options.timeoutMs ?? 3000), redirect: 'error',
          headers: { authorization: `Bearer ${rawToken}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ scope: scopes.join(' ') }),
        });
        await response.body?.cancel();
      } catch {
        // the refusal stands either way
      }
    },
  };
}
