import * as client from 'openid-client';
import { TEST_PASSWORD, type TestServer } from './authorization-server.ts';
import { UserAgent } from './user-agent.ts';

export { client };

/** openid-client configured for one of the test server's clients (plain http on loopback allowed). */
export async function discover(server: TestServer, clientId: string, auth: client.ClientAuth = client.None()): Promise<client.Configuration> {
  return client.discovery(new URL(server.issuer), clientId, undefined, auth, { execute: [client.allowInsecureRequests] });
}

/** Points the issuer's host (localhost) at the loopback address the server really listens on. */
export function userAgentFor(server: TestServer): UserAgent {
  return new UserAgent(server.issuer);
}

let counter = 0;
/** A fresh user with the shared test password. */
export async function addUser(server: Pick<TestServer, 'users'>, prefix = 'user'): Promise<{ username: string; password: string; id: string }> {
  counter += 1;
  const username = `${prefix}${counter}-${process.pid}`;
  const user = await server.users.add(username, TEST_PASSWORD);
  return { username, password: TEST_PASSWORD, id: user.id };
}

export interface CodeFlowOptions {
  redirectUri: string;
  scope: string;
  resource?: string;
  extra?: Record<string, string>;
}

/** A PKCE S256 authorization request URL, with the verifier and state the client keeps. */
export async function authorizationRequest(config: client.Configuration, options: CodeFlowOptions) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: options.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(options.resource ? { resource: options.resource } : {}),
    ...options.extra,
  });
  return { url, verifier, state };
}

/** The whole authorization-code + PKCE flow through our pages, ending in the token response. */
export async function codeFlow(config: client.Configuration, server: TestServer, user: { username: string; password: string }, options: CodeFlowOptions) {
  const { url, verifier, state } = await authorizationRequest(config, options);
  const callback = await userAgentFor(server).authorize(url, user);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, options.resource ? { resource: options.resource } : undefined);
  return { tokens, callback, verifier };
}
