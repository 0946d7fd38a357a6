import { TokenVerificationError } from './errors.ts';

function splitScopes(value: string): string[] {
  return value.split(' ').filter((scope) => scope !== '');
}

/**
 * The token's scopes: `scope` as a space-separated string (RFC 9068, RFC 8693), or `scp` as an
 * array of strings (Entra, Okta) or a space-separated string. Other shapes are `malformed`.
 */
export function scopesOf(claims: Record<string, unknown>): string[] {
  const { scope, scp } = claims;
  if (scope !== undefined) {
    if (typeof scope !== 'string') throw new TokenVerificationError('malformed', 'the scope claim must be a string');
    return [...new Set(splitScopes(scope))];
  }
  if (scp !== undefined) {
    if (typeof scp === 'string') return [...new Set(splitScopes(scp))];
    if (Array.isArray(scp) && scp.every((item) => typeof item === 'string')) return [...new Set(scp.flatMap(splitScopes))];
    throw new TokenVerificationError('malformed', 'the scp claim must be a string or an array of strings');
  }
  return [];
}

/** Validates a requiredScopes option: an array of non-empty strings without spaces. */
export function normalizeRequiredScopes(required: readonly string[] | undefined): readonly string[] {
  if (required === undefined) return [];
  if (!Array.isArray(required)) throw new TypeError('requiredScopes must be an array of strings');
  for (const scope of required) {
    if (typeof scope !== 'string' || scope === '' || /\s/.test(scope)) throw new TypeError(`requiredScopes has an invalid scope ${JSON.stringify(scope)}`);
  }
  return required;
}

/** Throws insufficient_scope naming the missing scopes and the whole required list. */
export function assertScopes(granted: ReadonlySet<string>, required: readonly string[]): void {
  if (required.length === 0) return;
  let missing: string[] | undefined;
  for (const scope of required) {
    if (!granted.has(scope)) (missing ??= []).push(scope);
  }
  if (missing === undefined) return;
  const requiredScopes = [...new Set(required)];
  throw new TokenVerificationError('insufficient_scope', `the token lacks the scope(s) ${missing.join(' ')}`, {
    requiredScopes,
    missingScopes: [...new Set(missing)],
  });
}
