/**
 * Per-tool policy: what a caller needs before a tool runs. Each tool declares its risk; the
 * defaults follow from it (read -> `<prefix>:read`, write -> `<prefix>:write`, privileged ->
 * `<prefix>:admin` plus recent sign-in), and a tool may name its own scopes instead.
 */
export type ToolRisk = 'read' | 'write' | 'privileged';
export type RateLimitTier = 'none' | 'standard' | 'strict';

export interface ToolPolicyInput {
  risk: ToolRisk;
  scopes?: string[];
  /** Needs a recent sign-in (RFC 9470 step-up); defaults to true for privileged tools. */
  requiresElevation?: boolean;
  timeoutMs?: number;
  maxConcurrency?: number;
  /** Calls per caller and tool (see ToolRateLimitOptions); needs the endpoint's `rateLimits` store. */
  rateLimit?: RateLimitTier;
  /**
   * The sign-in must be of one of these authentication context classes (the token's `acr`), e.g.
   * `urn:portcullis:acr:mfa` for a second factor at Portcullis; otherwise a step-up challenge names them.
   */
  acrValues?: string[];
}

export interface ToolPolicy {
  risk: ToolRisk;
  scopes: string[];
  requiresElevation: boolean;
  timeoutMs: number;
  maxConcurrency: number;
  rateLimit: RateLimitTier;
  acrValues: string[];
}

export interface PolicyDefaults {
  /** `notes` gives notes:read, notes:write and notes:admin. */
  scopePrefix: string;
  timeoutMs?: number;
  maxConcurrency?: number;
  /**
   * Whether calls can be counted (the endpoint has a rate-limit store). Then a tool's tier defaults
   * to standard (read) or strict (write, privileged); without it a declared tier is an error.
   */
  rateLimited?: boolean;
}

/**
 * @example
 * try { resolveToolPolicy('wipe', { risk: 'read', requiresElevation: true }, { scopePrefix: 'notes' }); }
 * catch (error) { if (error instanceof PolicyError) console.error(error.message); } // 'tool wipe: a read tool cannot require elevation; …'
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

const RISKS: readonly ToolRisk[] = ['read', 'write', 'privileged'];
const TIERS: readonly RateLimitTier[] = ['none', 'standard', 'strict'];
const SCOPE_FOR_RISK: Record<ToolRisk, string> = { read: 'read', write: 'write', privileged: 'admin' };
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Validates one tool's policy and fills the defaults; a bad policy throws naming the tool.
 *
 * @example
 * resolveToolPolicy('create_note', { risk: 'write' }, { scopePrefix: 'notes' }).scopes; // ['notes:write']
 */
export function resolveToolPolicy(tool: string, input: ToolPolicyInput, defaults: PolicyDefaults): ToolPolicy {
  const fail = (message: string): never => {
    throw new PolicyError(`tool ${tool}: ${message}`);
  };
  if (!RISKS.includes(input.risk)) fail(`risk must be one of ${RISKS.join(', ')}`);
  const scopes = input.scopes ?? [`${defaults.scopePrefix}:${SCOPE_FOR_RISK[input.risk]}`];
  if (scopes.some((scope) => !SCOPE_TOKEN.test(scope))) fail('scopes must be non-empty strings without spaces or quotes');
  const timeoutMs = input.timeoutMs ?? defaults.timeoutMs ?? 30_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) fail('timeoutMs must be a positive whole number');
  const maxConcurrency = input.maxConcurrency ?? defaults.maxConcurrency ?? 16;
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) fail('maxConcurrency must be a positive whole number');
  const rateLimit = input.rateLimit ?? (!defaults.rateLimited ? 'none' : input.risk === 'read' ? 'standard' : 'strict');
  if (!TIERS.includes(rateLimit)) fail(`rateLimit must be one of ${TIERS.join(', ')}`);
  if (rateLimit !== 'none' && !defaults.rateLimited) fail(`rateLimit ${rateLimit} needs a store to count calls in: give the endpoint rateLimits: { store }`);
  const requiresElevation = input.requiresElevation ?? input.risk === 'privileged';
  if (input.risk === 'read' && requiresElevation) fail('a read tool cannot require elevation; declare it write or privileged');
  const acrValues = input.acrValues ?? [];
  if (!Array.isArray(acrValues) || acrValues.some((value) => typeof value !== 'string' || !SCOPE_TOKEN.test(value))) fail('acrValues must be strings without spaces or quotes');
  return { risk: input.risk, scopes, requiresElevation, timeoutMs, maxConcurrency, rateLimit, acrValues };
}

export type PolicyDecision =
  | { allowed: true }
  | { allowed: false; reason: 'insufficient_scope'; missingScopes: string[]; requiredScopes: string[]; why?: string }
  | { allowed: false; reason: 'elevation_required'; maxAgeSeconds: number }
  | { allowed: false; reason: 'stronger_sign_in_required'; acrValues: string[]; maxAgeSeconds?: number };

export interface Caller {
  scopes: readonly string[];
  /** Epoch seconds of the user's last sign-in, when the token says (`auth_time`). */
  authTime?: number | undefined;
  /** How the user signed in (`acr`), when the token says. */
  acr?: string | undefined;
}

/**
 * Whether the caller may run the tool now. With `elevationChecked` the elevation of privileged
 * tools is checked elsewhere (an elevation claim, see elevation.ts), not by the age of the sign-in.
 *
 * @example
 * const policy = resolveToolPolicy('wipe', { risk: 'privileged' }, { scopePrefix: 'notes' });
 * decide(policy, { scopes: token.scopes, authTime: 1_700_000_000 }, { nowSeconds: Date.now() / 1000, elevationMaxAgeSeconds: 300 });
 */
export function decide(policy: ToolPolicy, caller: Caller, options: { nowSeconds: number; elevationMaxAgeSeconds: number; elevationChecked?: boolean }): PolicyDecision {
  const granted = new Set(caller.scopes);
  const missingScopes = policy.scopes.filter((scope) => !granted.has(scope));
  if (missingScopes.length > 0) {
    return { allowed: false, reason: 'insufficient_scope', missingScopes, requiredScopes: policy.scopes };
  }
  const stale = policy.requiresElevation && !options.elevationChecked
    && !(caller.authTime !== undefined && options.nowSeconds - caller.authTime <= options.elevationMaxAgeSeconds);
  if (policy.acrValues.length > 0 && !(caller.acr !== undefined && policy.acrValues.includes(caller.acr))) {
    return { allowed: false, reason: 'stronger_sign_in_required', acrValues: policy.acrValues, ...(stale ? { maxAgeSeconds: options.elevationMaxAgeSeconds } : {}) };
  }
  if (stale) return { allowed: false, reason: 'elevation_required', maxAgeSeconds: options.elevationMaxAgeSeconds };
  return { allowed: true };
}
