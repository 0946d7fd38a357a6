import type { IncomingMessage } from 'node:http';
import { extractBearerToken } from './authorization-header.ts';
import { tokenErrorResponse } from './error-response.ts';
import { TokenVerificationError } from './errors.ts';
import type { TokenVerifier } from './verifier.ts';
import type { VerifiedToken } from './verified-token.ts';

export interface BearerAuthOptions {
  verifier: Pick<TokenVerifier, 'verify'>;
  /** This resource's protected resource metadata URL (see metadataUrlFor), for the challenges. */
  metadataUrl: string;
  /** Scopes every request needs. Also hinted in 401 challenges. */
  requiredScopes?: readonly string[];
  /** Scopes to hint in 400/401 challenges when none are required (what a first sign-in should ask for). */
  challengeScopes?: readonly string[];
}

/** A refused request, ready to be written by whichever framework serves it. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type Authentication = { ok: true; token: VerifiedToken } | { ok: false; refusal: Refusal };

/**
 * Checks the bearer token of a node:http request (any framework's request wraps one). A refused
 * token gives the status, WWW-Authenticate and JSON body to answer with; other errors propagate.
 *
 * @example
 * const result = await authenticateRequest(req, { verifier, metadataUrl });
 * if (!result.ok) return sendRefusal(res, result.refusal);
 */
export async function authenticateRequest(request: IncomingMessage, options: BearerAuthOptions): Promise<Authentication> {
  const requiredScopes = [...(options.requiredScopes ?? [])];
  try {
    const raw = extractBearerToken({
      authorization: request.headersDistinct?.authorization ?? request.headers.authorization,
      accessTokenInQuery: new URL(request.url ?? '/', 'http://localhost').searchParams.has('access_token'),
    });
    return { ok: true, token: await options.verifier.verify(raw, { requiredScopes }) };
  } catch (error) {
    if (!(error instanceof TokenVerificationError)) throw error;
    const hint = requiredScopes.length > 0 ? requiredScopes : [...(options.challengeScopes ?? [])];
    const response = tokenErrorResponse(error, { resourceMetadata: options.metadataUrl, scopes: error.code === 'insufficient_scope' ? requiredScopes : hint });
    const headers: Record<string, string> = response.wwwAuthenticate === undefined ? { 'retry-after': '5' } : { 'www-authenticate': response.wwwAuthenticate };
    return { ok: false, refusal: { status: response.status, headers, body: response.body } };
  }
}
