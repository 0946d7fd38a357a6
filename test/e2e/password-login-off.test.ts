import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, authorizationRequest, discover, userAgentFor } from '../support/oauth-client.ts';

describe('PASSWORD_LOGIN=off: company sign-in only', () => {
  let server: TestServer;

  before(async () => {
    const configFile = join(tmpdir(), `portcullis-password-off-${process.pid}.json`);
    // Never contacted here: the page only names it.
    await writeFile(configFile, JSON.stringify({ upstreamProviders: [{ id: 'corp', name: 'Corp', issuer: 'https://idp.example.test', clientId: 'portcullis' }] }));
    server = await startTestServer({ CONFIG_FILE: configFile, PASSWORD_LOGIN: 'off' });
  });
  after(() => server.destroy());

  it('shows only the company button and refuses a password sign-in, even with the right password', async () => {
    const user = await addUser(server);
    const config = await discover(server, PUBLIC_CLIENT.client_id);
    const { url } = await authorizationRequest(config, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read', resource: NOTES_RESOURCE });
    const agent = userAgentFor(server);
    const { response, url: pageUrl } = await agent.follow(await agent.get(url));
    const page = await response.text();
    assert.match(page, /Sign in with Corp/);
    assert.doesNotMatch(page, /name="password"/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const refused = await agent.postForm(`${pageUrl.pathname}/login`, { csrf, username: user.username, password: user.password });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /password is turned off/);
  });
});
