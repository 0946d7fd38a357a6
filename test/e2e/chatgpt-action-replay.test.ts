import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { CONFIDENTIAL_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { captureLog, type CapturedLog } from '../support/captured-log.ts';
import { addUser } from '../support/oauth-client.ts';
import { UserAgent } from '../support/user-agent.ts';

const ACTION_API = 'https://api.example.test/actions';
const SECRET = 'a-chatgpt-action-secret-of-at-least-32-characters';
const ACTION = {
  client_id: 'chatgpt-action',
  client_name: 'ChatGPT Action',
  client_secret: 'env:ACTION_SECRET',
  token_endpoint_auth_method: 'client_secret_post',
  grant_types: ['authorization_code', 'refresh_token'],
  redirect_uris: ['https://chat.openai.com/aip/g-abc123/oauth/callback', 'https://chatgpt.com/aip/g-abc123/oauth/callback'],
  pkce: 'optional',
};

describe('a ChatGPT Action signs in as ChatGPT really sends its requests (no PKCE, no resource)', () => {
  let root: string;
  let server: TestServer;
  let captured: CapturedLog;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-action-'));
    await writeFile(join(root, 'config.json'), JSON.stringify({ clients: [ACTION] }));
    captured = captureLog('info');
    server = await startTestServer({ CONFIG_FILE: join(root, 'config.json'), ACTION_SECRET: SECRET }, undefined, [
      { uri: ACTION_API, name: 'Action API', scopes: ['api:read', 'api:write'], defaultScopes: ['api:read'], default: true },
    ], captured.log);
    user = await addUser(server);
  });
  after(async () => {
    await server?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  /** POSTs a form to /token as ChatGPT does: the secret in the body, or in a Basic header. */
  async function tokenRequest(fields: Record<string, string>, method: 'post' | 'basic') {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const body = new URLSearchParams(fields);
    if (method === 'post') {
      body.set('client_id', ACTION.client_id);
      body.set('client_secret', SECRET);
    } else {
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(ACTION.client_id)}:${encodeURIComponent(SECRET)}`).toString('base64')}`;
    }
    const response = await fetch(`${server.url}/token`, { method: 'POST', headers, body });
    return { status: response.status, body: await response.json() as Record<string, string> };
  }

  it('warns at start that the client may skip PKCE', () => {
    const warning = captured.lines.find((line) => line.client === ACTION.client_id);
    assert.equal(warning?.level, 40);
    assert.match(String(warning?.msg), /chatgpt-action may redeem authorization codes without PKCE/);
  });

  for (const callbackHost of ['chat.openai.com', 'chatgpt.com']) {
    for (const method of ['post', 'basic'] as const) {
      it(`signs in, redeems the code and refreshes with the callback on ${callbackHost} and client_secret_${method}`, async () => {
        const redirectUri = `https://${callbackHost}/aip/g-abc123/oauth/callback`;
        const authorize = new URL(`${server.issuer}/authorize`);
        for (const [name, value] of Object.entries({ response_type: 'code', client_id: ACTION.client_id, redirect_uri: redirectUri, state: 'chatgpt-state', scope: 'api:read' })) {
          authorize.searchParams.set(name, value);
        }
        const callback = await new UserAgent(server.issuer).authorize(authorize, user);
        assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
        assert.equal(callback.searchParams.get('state'), 'chatgpt-state');
        const code = callback.searchParams.get('code');
        assert.ok(code);

        const issued = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }, method);
        assert.equal(issued.status, 200, JSON.stringify(issued.body));
        assert.equal(issued.body.token_type, 'Bearer');
        assert.equal(issued.body.scope, 'api:read');
        assert.equal(decodeJwt(issued.body.access_token!).aud, ACTION_API, 'the default resource, as ChatGPT names none');
        assert.ok(issued.body.refresh_token);

        const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token! }, method);
        assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
        assert.equal(refreshed.body.scope, 'api:read');
        assert.notEqual(refreshed.body.refresh_token, issued.body.refresh_token);
      });
    }
  }

  it('gives an Action whose Scope field is empty the default resource\'s default scopes', async () => {
    const redirectUri = ACTION.redirect_uris[1]!;
    const authorize = new URL(`${server.issuer}/authorize`);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: ACTION.client_id, redirect_uri: redirectUri, state: 'no-scope' })) {
      authorize.searchParams.set(name, value);
    }
    const callback = await new UserAgent(server.issuer).authorize(authorize, user);
    const issued = await tokenRequest({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri }, 'post');
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal(issued.body.scope, 'api:read');
  });

  it('still refuses an authorization request without PKCE from a confidential client not configured for it', async () => {
    const authorize = new URL(`${server.issuer}/authorize`);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: CONFIDENTIAL_CLIENT.client_id, redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0], state: 's', scope: 'api:read' })) {
      authorize.searchParams.set(name, value);
    }
    const browser = new UserAgent(server.issuer);
    const { url } = await browser.follow(await browser.get(authorize));
    assert.equal(url.searchParams.get('error'), 'invalid_request');
    assert.match(url.searchParams.get('error_description') ?? '', /requires PKCE/);
  });
});
