import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { allEvents } from '../../src/audit/index.ts';
import { demoNotesResource } from '../../src/config/index.ts';
import { PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser } from '../support/oauth-client.ts';
import { authorizeUrl, pkce, redeemCode } from '../support/registration.ts';
import { UserAgent } from '../support/user-agent.ts';

const NOTES = 'https://notes.example.test/mcp';
const REDIRECT = 'http://127.0.0.1/callback';

describe('the consent page says who is signed in', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({}, undefined, [demoNotesResource(NOTES)]);
  });
  after(() => server?.destroy());

  /** Fills in the sign-in form of `page` as `user` and returns the next page of ours. */
  async function signInOn(browser: UserAgent, page: string, user: { username: string; password: string }) {
    const action = /<form method="post" action="([^"]+)"/.exec(page)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    assert.match(action, /\/login$/, 'a sign-in form');
    const { response } = await browser.follow(await browser.postForm(action, { csrf, username: user.username, password: user.password }));
    return response.text();
  }

  it('"not you?" signs the user out and starts the same request again, and the grant goes to whoever signs in', async () => {
    const alice = await addUser(server, 'alice');
    const bob = await addUser(server, 'bob');
    const browser = new UserAgent(server.issuer);
    const { verifier, challenge } = pkce();
    const request = authorizeUrl(server, { client_id: PUBLIC_CLIENT.client_id, redirect_uri: REDIRECT, code_challenge: challenge, state: 'st', resource: NOTES, scope: 'notes:read' });

    const { response } = await browser.follow(await browser.get(request));
    const aliceConsent = await signInOn(browser, await response.text(), alice);
    assert.match(aliceConsent, new RegExp(`Signed in as <strong>${alice.username}</strong> — <input[^>]+><button type="submit" class="link">not you\\?</button>`));
    const switchUser = /<form class="signed-in-as muted" method="post" action="([^"]+)">/.exec(aliceConsent)![1]!;
    const csrfOfSwitch = /name="csrf" value="([^"]+)"/.exec(aliceConsent)![1]!;

    const again = await browser.follow(await browser.postForm(switchUser, { csrf: csrfOfSwitch }));
    const switched = (await allEvents(server.config.auditDir)).map((record) => record.event).filter((event) => event.type === 'login.switched_user');
    assert.deepEqual(switched.map(({ subject, client }) => ({ subject, client })), [{ subject: alice.id, client: PUBLIC_CLIENT.client_id }], 'the audit log says who signed out to let someone else in');
    const bobConsent = await signInOn(browser, await again.response.text(), bob);
    assert.match(bobConsent, new RegExp(`Signed in as <strong>${bob.username}</strong>`));
    const action = /<form method="post" action="([^"]+)"/.exec(bobConsent)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(bobConsent)![1]!;
    const { url: callback } = await browser.follow(await browser.postForm(action, { csrf, decision: 'approve' }));
    assert.equal(callback.searchParams.get('state'), 'st');
    const token = await redeemCode(server, { clientId: PUBLIC_CLIENT.client_id, code: callback.searchParams.get('code')!, verifier, redirectUri: REDIRECT, resource: NOTES });
    assert.equal(token.status, 200);
    assert.equal(decodeJwt(String(token.body.access_token)).sub, bob.id);
  });
});
