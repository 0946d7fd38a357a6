import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SigningKeys, type SigningKeysOptions } from '../../src/keys/index.ts';
import { keysAt } from '../../src/keys/schedule.ts';
import { openRedisStore, type RedisStore } from '../../src/storage/index.ts';
import { deleteKeysUnder, dumpUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';
import { assertKeyConfigError, noSecret, tempDir } from './fixtures.ts';

const record = async () => {};
const cookieKey = () => randomBytes(32).toString('base64url');

describe('the key ring shared through Redis', () => {
  const prefix = uniqueRedisPrefix('test:shared-ring');
  let store: RedisStore;
  let root: { dir: string; cleanup: () => Promise<void> };
  const oldCookieKey = cookieKey();
  const newCookieKey = cookieKey();
  const options = (keysDir: string, cookieKeys: string[]): SigningKeysOptions => ({
    secretPath: noSecret(root.dir), keysDir, shared: { store, cookieKeys }, activationDelaySeconds: 0, tokenLifetimeSeconds: 3600,
  });

  before(async () => {
    store = await openRedisStore({ url: TEST_REDIS_URL, prefix });
    root = await tempDir();
  });
  after(async () => {
    await store.close();
    await root.cleanup();
    await deleteKeysUnder(prefix);
  });

  it('is seeded by the first instance and read by the next, whose own keys dir is ignored', async () => {
    const first = await (await SigningKeys.open(options(`${root.dir}/a`, [oldCookieKey]))).ring();
    const second = await (await SigningKeys.open(options(`${root.dir}/b`, [oldCookieKey]))).ring();
    assert.equal(second.source, 'store');
    assert.equal(second.signingKid, first.signingKid);
  });

  it('keeps private keys only sealed: no PEM and no private JWK member in Redis', async () => {
    const ring = await (await SigningKeys.open(options(`${root.dir}/b`, [oldCookieKey]))).ring();
    const dump = await dumpUnder(prefix);
    assert.doesNotMatch(dump, /PRIVATE KEY/);
    for (const jwk of ring.privateJwks().keys) assert.ok(!dump.includes(jwk.d) && !dump.includes(jwk.p), 'a private member is in Redis');
  });

  it('refuses to start an instance whose cookie keys do not open the ring, naming COOKIE_KEYS', async () => {
    await assertKeyConfigError(SigningKeys.open(options(`${root.dir}/c`, [cookieKey()])).then((keys) => keys.ring()), 'COOKIE_KEYS', /sealed with a cookie key this instance does not have/);
  });

  it('opens with an older cookie key still listed, and a change re-seals with the newest', async () => {
    const rotated = await SigningKeys.open(options(`${root.dir}/b`, [newCookieKey, oldCookieKey]));
    const key = await rotated.rotate(record);
    const onlyNew = await (await SigningKeys.open(options(`${root.dir}/b`, [newCookieKey]))).ring();
    assert.equal(onlyNew.signingKid, key.kid);
    assert.equal(onlyNew.publicJwks().keys.length, 2);
  });

  it('records a change before making it, and a refused one neither records nor changes anything', async () => {
    const keys = await SigningKeys.open(options(`${root.dir}/b`, [newCookieKey]));
    const events: object[] = [];
    const current = (await keys.ring()).signingKid;
    await assert.rejects(keys.retire(current, async (event) => { events.push(event); }), /signing key; rotate first/);
    assert.equal(events.length, 0, "nothing recorded");
    assert.equal((await keys.ring()).signingKid, current);
    const older = (await keys.list()).find((key) => key.status === 'published')!;
    const { warning } = await keys.retire(older.kid, async (event) => { events.push(event); });
    assert.match(warning ?? '', /were valid until/);
    assert.deepEqual(events, [{ type: 'admin.keys.retired', kid: older.kid, tokens_valid_until: older.inUseUntil }]);
    assert.deepEqual((await keys.ring()).publicJwks().keys.map((jwk) => jwk.kid), [current]);
  });
});

describe('the switch to a next key', () => {
  const created = '2026-12-01T10:00:00.000Z';
  const keys = [
    { kid: 'old', createdAt: created, status: 'signing' as const },
    { kid: 'new', createdAt: created, status: 'next' as const, activatesAt: '2026-12-01T10:01:00.000Z' },
  ];

  it('waits for its time: before it, the old key signs and the new one is only published', () => {
    assert.deepEqual(keysAt(keys, new Date('2026-12-01T10:00:59Z')).map((key) => key.status), ['signing', 'next']);
  });

  it('happens at its time on every reader alike, and says when the old key stopped signing', () => {
    const after = keysAt(keys, new Date('2026-12-01T10:01:00Z'));
    assert.deepEqual(after.map((key) => [key.kid, key.status]), [['old', 'published'], ['new', 'signing']]);
    assert.equal(after[0]!.supersededAt, '2026-12-01T10:01:00.000Z');
  });
});
