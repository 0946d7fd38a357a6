import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { grantTag, modelKey, storedModelKey } from '../../src/authorization-server/adapter.ts';
import type { Store } from '../../src/storage/index.ts';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, client, codeFlow, discover } from '../support/oauth-client.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const REDIRECT = 'http://127.0.0.1/callback';

for (const engine of ['embedded', 'redis'] as const) {
  describe(`refresh-token rotation (${engine} store)`, () => {
    let server: TestServer;
    let config: client.Configuration;
    let user: Awaited<ReturnType<typeof addUser>>;
    const prefix = uniqueRedisPrefix('rotation');

    before(async () => {
      server = await startTestServer(engine === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix } : {});
      config = await discover(server, PUBLIC_CLIENT.client_id);
      user = await addUser(server);
    });
    after(async () => {
      await server.destroy();
      if (engine === 'redis') await deleteKeysUnder(prefix);
    });

    async function signIn(): Promise<{ refreshToken: string; key: string; grantId: string }> {
      const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT, scope: 'notes:read', resource: NOTES_RESOURCE });
      const key = storedModelKey('RefreshToken', tokens.refresh_token!);
      const grantId = (await server.store.get<{ grantId: string }>(key))!.value.grantId;
      return { refreshToken: tokens.refresh_token!, key, grantId };
    }

    /** Replaces one store method for the duration of `body`. */
    async function intercepting<K extends 'consume' | 'put' | 'consumeAndPut' | 'get' | 'findByTag'>(name: K, replacement: (original: Store[K]) => Store[K], body: () => Promise<void>): Promise<void> {
      const original = server.store[name];
      server.store[name] = replacement(original);
      try {
        await body();
      } finally {
        server.store[name] = original;
      }
    }

    it('spends the old token and stores its successor in one store write', async () => {
      const { refreshToken, key } = await signIn();
      const writes: string[] = [];
      const recorded = <K extends 'consume' | 'put' | 'consumeAndPut'>(name: K) => (original: Store[K]) =>
        ((...args: [string, ...unknown[]]) => {
          if (args[0].startsWith(modelKey('RefreshToken', ''))) writes.push(name);
          return (original as (...a: unknown[]) => Promise<unknown>)(...args);
        }) as Store[K];
      let renewed = '';
      await intercepting('consume', recorded('consume'), () => intercepting('put', recorded('put'), () => intercepting('consumeAndPut', recorded('consumeAndPut'), async () => {
        renewed = (await client.refreshTokenGrant(config, refreshToken)).refresh_token!;
      })));
      assert.deepEqual(writes, ['consumeAndPut']);
      assert.ok((await server.store.get(key))?.consumedAt, 'the old token is spent');
      assert.equal((await server.store.get(storedModelKey('RefreshToken', renewed)))?.consumedAt, undefined, 'its successor is stored, unspent');
    });

    it('reads the grant, the account and any step-up signal together once the refresh token is found', async () => {
      const { refreshToken } = await signIn();
      const events: string[] = [];
      const logged = <K extends 'get' | 'findByTag'>(name: K) => (original: Store[K]) =>
        ((subject: string) => {
          const what = subject.startsWith(modelKey('Grant', '')) ? 'grant' : subject.startsWith('step-up:') ? 'step-up signal' : subject.startsWith('user-id:') ? 'account' : undefined;
          const pending = (original as (subject: string) => Promise<unknown>)(subject);
          if (what) {
            events.push(`start ${what}`);
            void pending.then(() => events.push(`end ${what}`));
          }
          return pending;
        }) as Store[K];
      await intercepting('get', logged('get'), () => intercepting('findByTag', logged('findByTag'), async () => {
        await client.refreshTokenGrant(config, refreshToken);
      }));
      assert.deepEqual(events.slice(0, 3).sort(), ['start account', 'start grant', 'start step-up signal']);
      assert.equal(events.filter((event) => event.startsWith('start')).length, 3, 'each is read once');
    });

    it('answers invalid_grant and stores nothing when another request spends the token between its read and its write', async () => {
      const { refreshToken, key, grantId } = await signIn();
      const tokensBefore = (await server.store.findByTag(grantTag(grantId))).length;
      await intercepting('consumeAndPut', (original) => async (consumedKey, ...rest) => {
        assert.equal(await server.store.consume(consumedKey), true, 'the other request wins');
        return original(consumedKey, ...rest);
      }, async () => {
        await assert.rejects(client.refreshTokenGrant(config, refreshToken), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
      });
      assert.equal((await server.store.findByTag(grantTag(grantId))).length, tokensBefore, 'no new token was stored');
      assert.ok((await server.store.get(key))?.consumedAt, 'the token stays spent: the refusal restored nothing');
      assert.ok(await server.store.get(modelKey('Grant', grantId)), 'the grant is left to the request that won');
    });
  });
}
