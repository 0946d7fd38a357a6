import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, authorizationRequest, client, discover, userAgentFor } from '../support/oauth-client.ts';
import type { UserAgent } from '../support/user-agent.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';

for (const engine of ['embedded', 'redis'] as const) {
  describe(`sign-in sessions: idle and absolute timeouts, "keep me signed in" (${engine} store)`, () => {
    let server: TestServer;
    let config: client.Configuration;
    const prefix = uniqueRedisPrefix('sessions');

    before(async () => {
      server = await startTestServer({
        SESSION_IDLE_SECONDS: '3', SESSION_TTL_SECONDS: '6', ...(engine === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix } : {}),
      });
      config = await discover(server, PUBLIC_CLIENT.client_id);
    });
    after(async () => {
      await server?.destroy();
      if (engine === 'redis') await deleteKeysUnder(prefix);
    });

    /** Signs in through the login form (ticking "keep me signed in" or not) and approves; returns the session cookie's Set-Cookie. */
    async function signIn(agent: UserAgent, user: { username: string; password: string }, remember: boolean): Promise<string> {
      const { url } = await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'openid notes:read', resource: NOTES_RESOURCE });
      let { response } = await agent.follow(await agent.get(url));
      let page = await response.text();
      const action = /action="([^"]+\/login)"/.exec(page)![1]!;
      const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
      const login = await agent.postForm(action, { csrf, username: user.username, password: user.password, ...(remember ? { remember: 'on' } : {}) });
      let sessionCookie = '';
      let current = login;
      let at = new URL(action, server.issuer);
      while (current.status >= 300 && current.status < 400) {
        sessionCookie ||= current.headers.getSetCookie().find((cookie) => cookie.startsWith('_session=')) ?? '';
        at = new URL(current.headers.get('location')!, at);
        if (at.origin !== server.issuer) return sessionCookie;
        current = await agent.get(at);
      }
      page = await current.text();
      const consent = /action="([^"]+\/consent)"/.exec(page)![1]!;
      ({ response } = await agent.follow(await agent.postForm(consent, { csrf: /name="csrf" value="([^"]+)"/.exec(page)![1]!, decision: 'approve' })));
      return sessionCookie;
    }

    /** True when an authorization request goes straight back to the client: the browser is still signed in. */
    async function stillSignedIn(agent: UserAgent): Promise<boolean> {
      const { url } = await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'openid notes:read', resource: NOTES_RESOURCE });
      const { url: landed } = await agent.follow(await agent.get(url));
      return landed.origin !== server.issuer;
    }

    it('keeps the session cookie to the browser\'s life unless "keep me signed in" is ticked', async () => {
      const user = await addUser(server);
      const transient = await signIn(userAgentFor(server), user, false);
      assert.ok(transient.startsWith('_session='));
      assert.doesNotMatch(transient, /expires=/i);
      const remembered = await signIn(userAgentFor(server), user, true);
      assert.match(remembered, /expires=/i);
    });

    it('ends a session left unused for longer than the idle timeout', async () => {
      const agent = userAgentFor(server);
      await signIn(agent, await addUser(server), false);
      assert.equal(await stillSignedIn(agent), true);
      await sleep(4000);
      assert.equal(await stillSignedIn(agent), false);
    });

    it('ends a session at the absolute timeout however often it is used', async () => {
      const agent = userAgentFor(server);
      await signIn(agent, await addUser(server), true);
      const started = Date.now();
      while (Date.now() - started < 3000) {
        assert.equal(await stillSignedIn(agent), true, 'each use within the idle timeout keeps the session');
        await sleep(1500);
      }
      await sleep(Math.max(0, 6500 - (Date.now() - started)));
      assert.equal(await stillSignedIn(agent), false);
    });
  });
}
