import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, AuditSink } from '../../src/audit/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { openSettings } from '../../src/settings/index.ts';
import { openEmbeddedStore, type Store } from '../../src/storage/index.ts';
import { openRedisStore } from '../../src/storage/redis.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

function recordingAudit(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, append: async (event) => (events.push(event), { seq: events.length }) };
}

const failingAudit: AuditSink = { append: async () => { throw new Error('audit log unavailable'); } };

const engines: Array<[string, () => Promise<{ store: () => Promise<Store>; cleanup: () => Promise<void> }>]> = [
  ['embedded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-settings-'));
    return { store: () => openEmbeddedStore({ dataDir: dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
  }],
  ['redis', async () => {
    const prefix = uniqueRedisPrefix('test:settings');
    return { store: () => openRedisStore({ url: TEST_REDIS_URL, prefix }), cleanup: () => deleteKeysUnder(prefix) };
  }],
];

for (const [engine, open] of engines) {
  describe(`live settings on the ${engine} store`, () => {
    let env: Awaited<ReturnType<typeof open>>;
    let storeA: Store;
    let storeB: Store;
    let dir: string;
    before(async () => {
      env = await open();
      storeA = await env.store();
      // A second instance on the same data (redis), or the same process's second reader (embedded).
      storeB = engine === 'redis' ? await env.store() : storeA;
      dir = await mkdtemp(join(tmpdir(), 'portcullis-settings-config-'));
    });
    after(async () => {
      await storeA.close();
      if (storeB !== storeA) await storeB.close();
      await env.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    const configWith = (extra: Record<string, string> = {}) => loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, ...extra });

    it('starts from the defaults at version 0 and describes each setting with its source and allowed range', async () => {
      const settings = await openSettings({ config: configWith({ TOKEN_RATE_LIMIT_PER_ADDRESS: '50' }), store: storeA, audit: recordingAudit() });
      assert.equal(settings.version, 0);
      assert.equal(settings.current().tokenRateLimitPerClient, 600);
      assert.deepEqual(settings.current().secondFactorRequired, ['none']);
      const byName = new Map(settings.describe().map((entry) => [entry.name, entry]));
      assert.deepEqual(
        { source: byName.get('tokenRateLimitPerAddress')!.source, editable: byName.get('tokenRateLimitPerAddress')!.editable, display: byName.get('tokenRateLimitPerAddress')!.display },
        { source: 'environment', editable: false, display: '50' },
      );
      assert.equal(byName.get('tokenRateLimitPerClient')!.source, 'default');
      assert.equal(byName.get('cimdMaxBytes')!.allowed, 'a whole number from 512 to 1048576');
      assert.equal(byName.get('registration')!.allowed, 'one of open, token, off');
      assert.equal(byName.get('cimdAllowedHosts')!.display, '(any public host)');
    });

    it('applies a change as a new version, records who changed what from what, and another instance sees it after a refresh', async () => {
      const audit = recordingAudit();
      const a = await openSettings({ config: configWith(), store: storeA, audit });
      const b = await openSettings({ config: configWith(), store: storeB, audit: recordingAudit() });
      const before = a.version;
      const result = await a.apply({ tokenRateLimitPerClient: '3', TOKEN_RATE_LIMIT_WINDOW_SECONDS: '120' }, { expectedVersion: before, actor: { subject: 'user-1', name: 'alice' } });
      assert.deepEqual(result, {
        ok: true, version: before + 1,
        changes: [{ name: 'tokenRateLimitPerClient', before: 600, after: 3 }, { name: 'tokenRateLimitWindowSeconds', before: 60, after: 120 }],
      });
      assert.equal(a.current().tokenRateLimitPerClient, 3);
      assert.deepEqual(audit.events, [{
        type: 'admin.settings.changed', actor: 'alice', subject: 'user-1', version: before + 1,
        changes: [{ name: 'tokenRateLimitPerClient', before: 600, after: 3 }, { name: 'tokenRateLimitWindowSeconds', before: 60, after: 120 }],
      }]);
      await b.refresh();
      assert.equal(b.current().tokenRateLimitPerClient, 3);
      assert.equal(b.version, before + 1);
      const described = b.describe().find((entry) => entry.name === 'tokenRateLimitPerClient')!;
      assert.equal(described.source, 'stored');
      assert.equal(described.changedBy, 'alice');
    });

    it('refuses a change made against an old version as a conflict, and loses neither change', async () => {
      const a = await openSettings({ config: configWith(), store: storeA, audit: recordingAudit() });
      const b = await openSettings({ config: configWith(), store: storeB, audit: recordingAudit() });
      const seen = a.version;
      assert.equal(b.version, seen);
      const first = await a.apply({ loginLockoutThreshold: 7 }, { expectedVersion: seen, actor: 'alice' });
      assert.equal(first.ok, true);
      const second = await b.apply({ loginLockoutThreshold: 9 }, { expectedVersion: seen, actor: 'bob' });
      assert.deepEqual(second, { ok: false, reason: 'conflict', currentVersion: seen + 1 });
      assert.equal(b.current().loginLockoutThreshold, 7, 'the loser now sees the winner\'s value');
      const retried = await b.apply({ registration: 'token' }, { expectedVersion: b.version, actor: 'bob' });
      assert.equal(retried.ok, true);
      await a.refresh();
      assert.equal(a.current().loginLockoutThreshold, 7);
      assert.equal(a.current().registration, 'token');
    });

    it('refuses invalid values naming the field and its allowed range, and applies nothing', async () => {
      const audit = recordingAudit();
      const settings = await openSettings({ config: configWith(), store: storeA, audit });
      const version = settings.version;
      const before = settings.current();
      const result = await settings.apply(
        { tokenRateLimitPerClient: '0', cimdMaxBytes: 'lots', registration: 'sometimes', loginLockoutThreshold: '4', noSuchSetting: '1' },
        { expectedVersion: version, actor: 'alice' },
      );
      assert.equal(result.ok, false);
      assert.equal(result.ok === false && result.reason, 'invalid');
      const errors = result.ok === false && result.reason === 'invalid' ? result.errors : [];
      assert.deepEqual(errors.map((error) => error.name), ['tokenRateLimitPerClient', 'cimdMaxBytes', 'registration', 'noSuchSetting']);
      assert.equal(errors[0]!.allowed, 'a whole number, at least 1');
      assert.match(errors[3]!.message, /not a setting/);
      assert.deepEqual(settings.current(), before);
      assert.equal(settings.version, version);
      assert.deepEqual(audit.events, []);
    });

    it('checks the rule between two settings as start-up does', async () => {
      const settings = await openSettings({ config: configWith(), store: storeA, audit: recordingAudit() });
      const preview = settings.preview({ cimdCacheMinSeconds: '100000' });
      assert.equal(preview.ok, false);
      assert.equal(preview.ok === false && preview.errors[0]!.name, 'cimdCacheMinSeconds');
    });

    it('refuses to change a setting fixed by the environment or the configuration file', async () => {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ registrationRateLimit: 10 }));
      const settings = await openSettings({ config: configWith({ CONFIG_FILE: file, TOKEN_RATE_LIMIT_PER_CLIENT: '600' }), store: storeA, audit: recordingAudit() });
      const result = await settings.apply({ tokenRateLimitPerClient: '5', registrationRateLimit: '11' }, { expectedVersion: settings.version, actor: 'alice' });
      assert.equal(result.ok, false);
      const errors = result.ok === false && result.reason === 'invalid' ? result.errors : [];
      assert.match(errors[0]!.message, /fixed by the environment \(TOKEN_RATE_LIMIT_PER_CLIENT\)/);
      assert.match(errors[1]!.message, /fixed by the configuration file/);
      assert.equal(settings.current().tokenRateLimitPerClient, 600, 'a stored value never beats the environment');
      assert.equal(settings.describe().find((entry) => entry.name === 'registrationRateLimit')!.source, 'config file');
    });

    it('previews a change as a diff without storing anything', async () => {
      const settings = await openSettings({ config: configWith(), store: storeA, audit: recordingAudit() });
      const version = settings.version;
      const preview = settings.preview({ secondFactorRequired: 'admin, approver', cimdAllowedHosts: 'chatgpt.com *.example.com' });
      assert.deepEqual(preview, {
        ok: true,
        changes: [
          { name: 'cimdAllowedHosts', before: [], after: ['chatgpt.com', '*.example.com'] },
          { name: 'secondFactorRequired', before: ['none'], after: ['admin', 'approver'] },
        ],
      });
      await settings.refresh();
      assert.equal(settings.version, version);
    });

    it('replaces all settings at once for an import: unnamed ones return to their defaults, a bad one refuses all', async () => {
      const settings = await openSettings({ config: configWith(), store: storeA, audit: recordingAudit() });
      const refused = await settings.replace({ breakGlassPerHour: 2, sessionIdleSeconds: -1 }, { expectedVersion: settings.version, actor: 'import' });
      assert.equal(refused.ok, false);
      assert.notEqual(settings.current().breakGlassPerHour, 2);
      const snapshot = settings.snapshot();
      const replaced = await settings.replace({ ...snapshot.values, breakGlassPerHour: 2, loginLockoutThreshold: 5, registration: 'open' }, { expectedVersion: snapshot.version, actor: 'import' });
      assert.equal(replaced.ok, true);
      assert.equal(settings.current().breakGlassPerHour, 2);
      const reset = await settings.replace({}, { expectedVersion: settings.version, actor: 'import' });
      assert.equal(reset.ok, true);
      assert.deepEqual(settings.snapshot().values, (await openSettings({ config: configWith(), store: await emptyStore(), audit: recordingAudit() })).current());
    });

    it('undoes a change whose audit event could not be written', async () => {
      const settings = await openSettings({ config: configWith(), store: storeA, audit: failingAudit });
      const before = settings.current().breakGlassPerUserPerDay;
      await assert.rejects(settings.apply({ breakGlassPerUserPerDay: before + 1 }, { expectedVersion: settings.version, actor: 'alice' }), /audit log unavailable/);
      assert.equal(settings.current().breakGlassPerUserPerDay, before);
      const other = await openSettings({ config: configWith(), store: storeB, audit: recordingAudit() });
      assert.equal(other.current().breakGlassPerUserPerDay, before);
    });

    async function emptyStore(): Promise<Store> {
      const empty = await mkdtemp(join(tmpdir(), 'portcullis-settings-empty-'));
      const store = await openEmbeddedStore({ dataDir: empty });
      after(async () => {
        await store.close();
        await rm(empty, { recursive: true, force: true });
      });
      return store;
    }
  });
}
