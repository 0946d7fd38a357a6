import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Adapter, AdapterPayload, ClientMetadata } from 'oidc-provider';
import { cliActor } from '../../src/admin/admin-events.ts';
import { ClientService, cleanUpThisHour } from '../../src/admin/clients/index.ts';
import { modelKey, storeAdapter } from '../../src/authorization-server/adapter.ts';
import { auditOutbox } from '../../src/authorization-server/audit-outbox.ts';
import { saveLastUse } from '../../src/authorization-server/clients/last-use.ts';
import { DYNAMIC_REGISTRATION } from '../../src/authorization-server/clients/registration-policy.ts';
import { clientSecretMatches } from '../../src/authorization-server/clients/secrets.ts';
import type { AuditEvent } from '../../src/audit/index.ts';
import type { StaticClientConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { openEmbeddedStore, openRedisStore, type Store } from '../../src/storage/index.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const engines: Array<{ name: string; open: () => Promise<{ store: Store; cleanup: () => Promise<void> }> }> = [
  {
    name: 'embedded',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'portcullis-clients-'));
      return { store: await openEmbeddedStore({ dataDir: dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'redis',
    open: async () => {
      const prefix = uniqueRedisPrefix('test:clients');
      return { store: await openRedisStore({ url: TEST_REDIS_URL, prefix }), cleanup: () => deleteKeysUnder(prefix) };
    },
  },
];

const STATIC_CLIENT = {
  client_id: 'static-app', client_name: 'Static App', client_secret: 'static-secret-that-must-never-show', redirect_uris: ['https://static.example/cb'],
  token_endpoint_auth_method: 'client_secret_basic', pkce: 'required',
} as unknown as StaticClientConfig;
const CIMD_CLIENT = 'https://app.example.com/oauth/client.json';
const DAY = 86_400;
const now = () => Math.floor(Date.now() / 1000);
const id = () => randomBytes(16).toString('base64url');
const actor = cliActor();

for (const engine of engines) {
  describe(`client administration on the ${engine.name} store`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let Model: new (model: string) => Adapter;
    let clients: ClientService;
    const events = async () => (await store.findByTag<{ event: AuditEvent }>('audit-outbox')).map(({ value }) => value.event);
    const lastEventOf = async (type: string) => (await events()).filter((event) => event.type === type).at(-1);

    /** What /reg stores: oidc-provider saves the client through the adapter with the registration mark. */
    const registered = async (name: string, issuedDaysAgo: number): Promise<string> => {
      const clientId = id();
      await new Model('Client').upsert(clientId, {
        client_id: clientId, client_name: name, redirect_uris: ['https://reg.example/cb'], token_endpoint_auth_method: 'none',
        client_id_issued_at: now() - issuedDaysAgo * DAY, [DYNAMIC_REGISTRATION]: 'dynamic',
      } as AdapterPayload, 0);
      return clientId;
    };
    /** A user's consent to a client with one refresh token, as oidc-provider stores them. */
    const grantWithRefreshToken = async (clientId: string): Promise<{ grantId: string; refreshToken: string }> => {
      const grantId = id();
      const refreshToken = randomBytes(32).toString('base64url');
      await new Model('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', clientId, accountId: 'alice' } as AdapterPayload, 3600);
      await new Model('RefreshToken').upsert(refreshToken, { jti: refreshToken, kind: 'RefreshToken', grantId, clientId, accountId: 'alice' } as AdapterPayload, 3600);
      return { grantId, refreshToken };
    };

    before(async () => {
      ({ store, cleanup } = await engine.open());
      Model = storeAdapter(store, silentLogger());
      clients = new ClientService({ store, staticClients: [STATIC_CLIENT], audit: auditOutbox(store), log: silentLogger() });
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    it('lists static, operator-added, registered and metadata-document clients with how each is known, last use and active grants, and no secret', async () => {
      const operator = await clients.add({ name: 'Operator App', redirectUris: ['http://127.0.0.1/cb'], confidential: true }, actor);
      const selfRegistered = await registered('Registered App', 1);
      await saveLastUse(store, { clientId: CIMD_CLIENT, at: now() - 60, name: 'Metadata App' });
      const usedAt = now() - 120;
      await saveLastUse(store, { clientId: operator.client_id, at: usedAt });
      await grantWithRefreshToken(operator.client_id);
      await grantWithRefreshToken(operator.client_id);

      const listed = await clients.list();
      const byId = new Map(listed.map((client) => [client.clientId, client]));
      assert.equal(listed[0]?.clientId, 'static-app', 'static clients come first');
      assert.deepEqual(
        [byId.get('static-app')?.kind, byId.get(operator.client_id)?.kind, byId.get(selfRegistered)?.kind, byId.get(CIMD_CLIENT)?.kind],
        ['static', 'operator', 'registered', 'metadata-document'],
      );
      assert.equal(byId.get(operator.client_id)?.activeGrants, 2);
      assert.equal(byId.get(operator.client_id)?.lastUsedAt, usedAt);
      assert.equal(byId.get(selfRegistered)?.lastUsedAt, undefined, 'never used');
      assert.equal(byId.get(CIMD_CLIENT)?.name, 'Metadata App');
      assert.equal(byId.get('static-app')?.confidential, true);
      assert.equal(byId.get(selfRegistered)?.confidential, false);
      const shown = JSON.stringify(listed);
      assert.doesNotMatch(shown, /static-secret|\$sha256\$/);
      assert.ok(!shown.includes(operator.client_secret!));
      assert.equal((await lastEventOf('admin.client.added'))?.client, operator.client_id);
    });

    it('revokes every grant of a client: its refresh tokens stop working, and the event names who did it and how many', async () => {
      const operator = await clients.add({ name: 'Revoked App', redirectUris: ['http://127.0.0.1/cb'], confidential: false }, actor);
      const { grantId, refreshToken } = await grantWithRefreshToken(operator.client_id);
      const other = await grantWithRefreshToken('static-app');

      assert.equal(await clients.revokeGrants(operator.client_id, actor), 1);
      assert.equal(await new Model('RefreshToken').find(refreshToken), undefined);
      assert.equal(await new Model('Grant').find(grantId), undefined);
      assert.equal((await clients.find(operator.client_id))?.activeGrants, 0);
      assert.ok(await new Model('RefreshToken').find(other.refreshToken), 'another client\'s grants stay');
      const event = await lastEventOf('admin.client.grants_revoked');
      assert.deepEqual([event?.client, event?.grants, event?.subject], [operator.client_id, 1, actor.subject]);
    });

    it('deletes an operator-added client with its grants, and refuses a static, a metadata-document or an unknown client without changing or recording anything', async () => {
      const operator = await clients.add({ name: 'Deleted App', redirectUris: ['http://127.0.0.1/cb'], confidential: false }, actor);
      const { refreshToken } = await grantWithRefreshToken(operator.client_id);
      assert.deepEqual(await clients.delete(operator.client_id, actor), { grants: 1 });
      assert.equal(await clients.find(operator.client_id), undefined);
      assert.equal(await store.get(modelKey('Client', operator.client_id)), undefined);
      assert.equal(await new Model('RefreshToken').find(refreshToken), undefined);
      assert.equal((await lastEventOf('admin.client.deleted'))?.client, operator.client_id);

      const before = await events();
      const listedBefore = await clients.list();
      await assert.rejects(clients.delete('static-app', actor), { name: 'ClientError', reason: 'read_only', message: /configuration file/ });
      await assert.rejects(clients.delete(CIMD_CLIENT, actor), { name: 'ClientError', reason: 'read_only' });
      await assert.rejects(clients.delete('no-such-client', actor), { name: 'ClientError', reason: 'not_found' });
      await assert.rejects(clients.rotateSecret('static-app', actor), { name: 'ClientError', reason: 'read_only' });
      await assert.rejects(clients.revokeGrants('no-such-client', actor), { name: 'ClientError', reason: 'not_found' });
      assert.deepEqual(await clients.list(), listedBefore);
      assert.equal((await events()).length, before.length, 'a refused change is not recorded');
    });

    it('rotates a confidential client\'s secret: returned once, stored as a hash, the old one no longer matches; a public client has none to rotate', async () => {
      const operator = await clients.add({ name: 'Rotated App', redirectUris: ['http://127.0.0.1/cb'], confidential: true }, actor);
      const secret = await clients.rotateSecret(operator.client_id, actor);
      const stored = (await store.get<ClientMetadata>(modelKey('Client', operator.client_id)))!.value.client_secret as string;
      assert.ok(clientSecretMatches(stored, secret));
      assert.ok(!clientSecretMatches(stored, operator.client_secret!));
      assert.ok(!JSON.stringify(await events()).includes(secret), 'the secret is not in the audit event');
      assert.equal((await lastEventOf('admin.client.secret_rotated'))?.client, operator.client_id);

      const publicClient = await clients.add({ name: 'Public App', redirectUris: ['http://127.0.0.1/cb'], confidential: false }, actor);
      await assert.rejects(clients.rotateSecret(publicClient.client_id, actor), { name: 'ClientError', reason: 'no_secret' });
    });

    it('cleans up only registered clients unused for N days, as previewed, on one instance per hour', async () => {
      const idleNeverUsed = await registered('Idle never used', 100);
      const idleLongAgo = await registered('Idle long ago', 100);
      await saveLastUse(store, { clientId: idleLongAgo, at: now() - 40 * DAY });
      const recentlyUsed = await registered('Recently used', 100);
      await saveLastUse(store, { clientId: recentlyUsed, at: now() - DAY });
      const young = await registered('Young', 2);
      const operator = await clients.add({ name: 'Old operator app', redirectUris: ['http://127.0.0.1/cb'], confidential: false }, actor);

      const preview = (await clients.idleRegistered(30)).map((client) => client.clientId).sort();
      assert.deepEqual(preview, [idleNeverUsed, idleLongAgo].sort());
      const options = { clients, store, log: silentLogger(), days: 30 };
      const runs = await Promise.all([cleanUpThisHour(options), cleanUpThisHour(options)]);
      assert.deepEqual(runs.filter(Boolean).map((removed) => removed!.sort()), [preview], 'one run in the hour cleans up; the other stands aside');
      const left = new Set((await clients.list()).map((client) => client.clientId));
      assert.deepEqual([idleNeverUsed, idleLongAgo, recentlyUsed, young, operator.client_id].map((clientId) => left.has(clientId)), [false, false, true, true, true]);
      const event = await lastEventOf('admin.client.cleaned_up');
      assert.deepEqual([event?.idle_days, (event?.clients as string[]).sort(), event?.subject], [30, preview, 'system:idle-client-clean-up']);
      assert.deepEqual(await clients.cleanUpIdle(30, actor), [], 'nothing idle is left');
    });
  });
}
