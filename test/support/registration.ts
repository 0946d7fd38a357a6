import { createHash, randomBytes } from 'node:crypto';
import { NOTES_RESOURCE, type TestServer } from './authorization-server.ts';
import { UserAgent } from './user-agent.ts';

export interface Registered {
  status: number;
  body: Record<string, unknown> & { client_id?: string; client_secret?: string; error?: string; error_description?: string };
  headers: Headers;
}

/** POSTs client metadata to /reg (RFC 7591), from `origin` (default: the server's loopback URL). */
export async function register(server: TestServer, metadata: Record<string, unknown>, options: { origin?: string; token?: string } = {}): Promise<Registered> {
  const response = await fetch(`${options.origin ?? server.url}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    body: JSON.stringify(metadata),
  });
  return { status: response.status, body: await response.json() as Registered['body'], headers: response.headers };
}

/** A PKCE S256 pair. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An authorization request URL built by hand, for clients openid-client cannot describe (cursor://). */
export function authorizeUrl(server: TestServer, params: Record<string, string>): URL {
  const url = new URL(`${server.issuer}/authorize`);
  for (const [name, value] of Object.entries({ response_type: 'code', code_challenge_method: 'S256', ...params })) url.searchParams.set(name, value);
  return url;
}

/** Redeems a code at /token with client_secret_post (when a secret is given) or as a public client. */
export async function redeemCode(server: TestServer, params: {
  clientId: string; code: string; verifier: string; redirectUri: string; resource?: string; secret?: string;
}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: params.code, code_verifier: params.verifier, redirect_uri: params.redirectUri, client_id: params.clientId,
      ...(params.resource ? { resource: params.resource } : {}), ...(params.secret ? { client_secret: params.secret } : {}),
    }),
  });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

/**
 * The whole code flow for a client openid-client cannot describe (cursor://, a client_id it
 * has no discovery for): authorization request, our pages as `user`, then the token request.
 */
export async function signInByHand(server: TestServer, user: { username: string; password: string }, params: {
  clientId: string; redirectUri: string; secret?: string | undefined; scope?: string; resource?: string;
}): Promise<{ callback: URL; token: { status: number; body: Record<string, unknown> } }> {
  const { verifier, challenge } = pkce();
  const resource = params.resource ?? NOTES_RESOURCE;
  const callback = await new UserAgent(server.issuer).authorize(authorizeUrl(server, {
    client_id: params.clientId, redirect_uri: params.redirectUri, scope: params.scope ?? 'notes:read', resource, code_challenge: challenge, state: 'st-1',
  }), user);
  const code = callback.searchParams.get('code');
  if (!code) return { callback, token: { status: 0, body: {} } };
  const token = await redeemCode(server, {
    clientId: params.clientId, code, verifier, redirectUri: params.redirectUri, resource, ...(params.secret ? { secret: params.secret } : {}),
  });
  return { callback, token };
}
