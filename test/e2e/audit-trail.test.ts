import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { allEvents, verifyLog } from '../../src/audit/index.ts';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, authorizationRequest, client, codeFlow, discover, userAgentFor } from '../support/oauth-client.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';

async function logText(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.jsonl'));
  return (await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')))).join('');
}

describe('audit trail of the authorization server', () => {
  let server: TestServer;
  let config: client.Configuration;

  before(async () => {
    server = await startTestServer();
    config = await discover(server, PUBLIC_CLIENT.client_id);
  });
  after(() => server.destroy());

  it('records sign-in, consent, issued, refreshed and revoked tokens and registrations, by jti and never the token', async () => {
    const user = await addUser(server);
    const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: NOTES_RESOURCE });
    await client.tokenRevocation(config, refreshed.refresh_token!);
    const registration = await fetch(new URL('/reg', server.url), {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Audited', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(registration.status, 201);
    const { url } = await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
    await assert.rejects(userAgentFor(server).authorize(url, { username: user.username, password: 'wrong password' }));

    const events = (await allEvents(server.config.auditDir)).map((record) => record.event);
    const types = events.map((event) => event.type);
    for (const type of ['config.loaded', 'login.succeeded', 'consent.granted', 'token.issued', 'token.refreshed', 'token.revoked', 'client.registered', 'login.failed']) {
      assert.ok(types.includes(type as never), `${type} in ${types.join(', ')}`);
    }
    const issued = events.find((event) => event.type === 'token.issued')!;
    const claims = decodeJwt(tokens.access_token);
    assert.equal(issued.jti, claims.jti);
    assert.equal(issued.subject, user.id);
    assert.equal(issued.client, PUBLIC_CLIENT.client_id);
    assert.equal(issued.resource, NOTES_RESOURCE);
    assert.deepEqual(issued.scopes, ['notes:read']);
    const text = await logText(server.config.auditDir);
    for (const secret of [tokens.access_token, tokens.refresh_token!, refreshed.access_token, refreshed.refresh_token!]) {
      assert.equal(text.includes(secret), false, 'a token is in the audit log');
    }
  });

  it('checkpoints at shutdown, and the log verifies', async () => {
    await server.stop();
    const restarted = await server.restart();
    await restarted.stop();
    const key = createPublicKey(await readFile(join(server.dirs.keysDir, 'audit-ed25519.pem'), 'utf8'));
    const report = await verifyLog({ dir: server.config.auditDir, name: server.config.auditOrigin, publicKey: key });
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.equal(report.unsigned, 0);
    assert.ok(report.checkpoints >= 1);
  });
});

describe('write-ahead at the token endpoint', () => {
  let server: TestServer;
  before(async () => {
    // One record per segment: every append has to create a file in the audit directory.
    server = await startTestServer({ AUDIT_SEGMENT_MAX_RECORDS: '1' });
  });
  after(() => server.destroy());

  it('answers 503 temporarily_unavailable with no token to a code or a refresh when the audit log cannot write; the code is spent, the refresh token is not', async () => {
    const config = await discover(server, PUBLIC_CLIENT.client_id);
    const user = await addUser(server);
    const { url, verifier } = await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
    const callback = await userAgentFor(server).authorize(url, user);
    const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
    const auditDir = server.config.auditDir;
    const tokensCounted = async () => (await server.metrics.tokensIssued.get()).values.reduce((sum, sample) => sum + sample.value, 0);
    const countedBefore = await tokensCounted();
    // The audit directory becomes a regular file: creating the next segment fails with ENOTDIR.
    await rename(auditDir, `${auditDir}.moved`);
    await writeFile(auditDir, '');
    const redeem = () => fetch(new URL('/token', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI,
        code_verifier: verifier, client_id: PUBLIC_CLIENT.client_id, resource: NOTES_RESOURCE,
      }),
    });
    const refused = await redeem();
    assert.equal(refused.status, 503);
    const body = await refused.json() as Record<string, unknown>;
    assert.equal(body.error, 'temporarily_unavailable');
    assert.equal(body.access_token, undefined);
    assert.equal(body.refresh_token, undefined);
    const refresh = await fetch(new URL('/token', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: PUBLIC_CLIENT.client_id, resource: NOTES_RESOURCE }),
    });
    assert.equal(refresh.status, 503);
    assert.deepEqual(Object.keys(await refresh.json() as object).sort(), ['error', 'error_description'], 'a refresh gets no token either');
    assert.equal(await tokensCounted(), countedBefore, 'withheld tokens are not counted as issued');

    await rm(auditDir);
    await rename(`${auditDir}.moved`, auditDir);
    const again = await redeem();
    assert.equal(again.status, 400, 'the code was used up, so no token can come from it later');
    assert.equal(((await again.json()) as { error: string }).error, 'invalid_grant');
    const types = (await allEvents(auditDir)).map((record) => record.event.type);
    assert.equal(types.filter((type) => type === 'token.issued').length, 1, 'only the token issued before the failure');
    assert.equal(types.includes('token.refreshed'), false);
    const retried = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: NOTES_RESOURCE });
    assert.ok(retried.access_token, 'the refused refresh left the refresh token usable');
  });
});
