import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { modelKey, storeAdapter, storedModelKey } from '../../src/authorization-server/adapter.ts';
import { hashClientSecret } from '../../src/authorization-server/clients/secrets.ts';
import { silentLogger } from '../../src/log/index.ts';
import { openEmbeddedStore, openRedisStore, type Store } from '../../src/storage/index.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';
import { startOwnCluster } from '../support/redis-topologies.ts';

const engines: Array<{ name: string; open: () => Promise<{ store: Store; cleanup: () => Promise<void> }> }> = [
  {
    name: 'embedded',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'portcullis-adapter-'));
      return { store: await openEmbeddedStore({ dataDir: dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'redis',
    open: async () => {
      const prefix = uniqueRedisPrefix('test:adapter');
      return { store: await openRedisStore({ url: TEST_REDIS_URL, prefix }), cleanup: () => deleteKeysUnder(prefix) };
    },
  },
  {
    name: 'redis (Cluster of three masters)',
    open: async () => {
      const cluster = await startOwnCluster(3);
      return { store: await openRedisStore({ cluster: { nodes: cluster.nodes }, prefix: uniqueRedisPrefix('test:adapter') }), cleanup: () => cluster.stop() };
    },
  },
];

const id = () => randomBytes(32).toString('base64url');

for (const engine of engines) {
  describe(`oidc-provider adapter on the ${engine.name} store`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let Model: new (model: string) => Adapter;
    before(async () => {
      ({ store, cleanup } = await engine.open());
      Model = storeAdapter(store, silentLogger());
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    it('stores codes and refresh tokens under a hash of their id, without the id, and finds them by id', async () => {
      const codes = new Model('AuthorizationCode');
      const code = id();
      await codes.upsert(code, { jti: code, kind: 'AuthorizationCode', grantId: 'g1', accountId: 'alice' } as AdapterPayload, 60);

      assert.equal(await store.get(modelKey('AuthorizationCode', code)), undefined, 'nothing under the plain id');
      const stored = await store.get(storedModelKey('AuthorizationCode', code));
      assert.ok(stored, 'stored under the hash');
      assert.doesNotMatch(JSON.stringify(stored), new RegExp(code));
      assert.deepEqual(await codes.find(code), { kind: 'AuthorizationCode', grantId: 'g1', accountId: 'alice', jti: code });

      await codes.consume(code);
      assert.equal(typeof (await codes.find(code))?.consumed, 'number');
      await assert.rejects(codes.consume(code), { name: 'InvalidGrant' });
      await codes.destroy(code);
      assert.equal(await codes.find(code), undefined);
    });

    it('revokes every token of a grant and leaves other grants alone', async () => {
      const [codes, refresh, sessions] = [new Model('AuthorizationCode'), new Model('RefreshToken'), new Model('Session')];
      const [code, token, other] = [id(), id(), id()];
      await codes.upsert(code, { jti: code, grantId: 'g2' } as AdapterPayload, 60);
      await refresh.upsert(token, { jti: token, grantId: 'g2' } as AdapterPayload, 3600);
      await refresh.upsert(other, { jti: other, grantId: 'g3' } as AdapterPayload, 3600);
      await sessions.upsert('session-1', { jti: 'session-1', uid: 'uid-1' } as AdapterPayload, 3600);

      await refresh.revokeByGrantId('g2');
      assert.equal(await codes.find(code), undefined);
      assert.equal(await refresh.find(token), undefined);
      assert.ok(await refresh.find(other));
      assert.equal((await sessions.findByUid('uid-1'))?.jti, 'session-1', 'non-credential models keep their id');
    });

    it('keeps a dynamic client secret only as a hash', async () => {
      const clients = new Model('Client');
      const secret = id();
      await clients.upsert('dyn-1', { client_id: 'dyn-1', client_secret: secret } as AdapterPayload, 0);
      const found = await clients.find('dyn-1');
      assert.equal(found?.client_secret, hashClientSecret(secret));
      await clients.upsert('dyn-1', found!, 0);
      assert.equal((await clients.find('dyn-1'))?.client_secret, hashClientSecret(secret), 'an already hashed secret is not hashed again');
    });
  });
}
