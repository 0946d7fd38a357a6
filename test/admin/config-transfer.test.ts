import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyImport, exportConfiguration, previewImport, type TransferDependencies } from '../../src/admin/config-transfer/index.ts';
import type { AuditEvent, AuditSink } from '../../src/audit/index.ts';
import { UserDirectory } from '../../src/authorization-server/accounts/users.ts';
import { listClients, registerClient } from '../../src/authorization-server/clients/registry.ts';
import { loadConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { openSettings, type SettingsService } from '../../src/settings/index.ts';
import { openEmbeddedStore, type Store } from '../../src/storage/index.ts';
import { openRedisStore } from '../../src/storage/redis.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const signingPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function recordingAudit(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, append: async (event) => (events.push(event), { seq: events.length }) };
}

const admin = { name: 'alice', subject: 'sub-alice', via: 'console' as const };

type Json = Record<string, any>;

const engines: Array<[string, (dir: string) => Promise<{ store: Store; cleanup: () => Promise<void> }>]> = [
  ['embedded', async (dir) => ({ store: await openEmbeddedStore({ dataDir: dir }), cleanup: async () => {} })],
  ['redis', async () => {
    const prefix = uniqueRedisPrefix('test:config-transfer');
    return { store: await openRedisStore({ url: TEST_REDIS_URL, prefix }), cleanup: () => deleteKeysUnder(prefix) };
  }],
];

for (const [engine, openStore] of engines) {
  describe(`configuration export and import on the ${engine} store`, () => {
    let dir: string;
    const opened: Array<{ store: Store; cleanup: () => Promise<void> }> = [];
    before(async () => { dir = await mkdtemp(join(tmpdir(), 'portcullis-transfer-')); });
    after(async () => {
      for (const { store, cleanup } of opened) { await store.close(); await cleanup(); }
      await rm(dir, { recursive: true, force: true });
    });

    /** A server's state on its own store: users alice (admin) and bob, one operator client. */
    async function server(env: Record<string, string> = {}): Promise<TransferDependencies & { audit: ReturnType<typeof recordingAudit>; users: UserDirectory; settings: SettingsService }> {
      const own = await mkdtemp(join(dir, 'server-'));
      const handle = await openStore(own);
      opened.push(handle);
      const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: own, ...env });
      const audit = recordingAudit();
      const users = new UserDirectory(handle.store);
      // Accounts without a password: role assignments are what matters here, and scrypt is slow.
      await users.addWithoutPassword('alice', {});
      await users.changeRoles('alice', { add: ['admin'] });
      await users.addWithoutPassword('bob', {});
      await registerClient(handle.store, { name: 'Reporting tool', redirectUris: ['https://reports.example.com/callback'], confidential: false });
      const settings = await openSettings({ config, store: handle.store, audit });
      return { config, store: handle.store, users, settings, audit, log: silentLogger() };
    }

    const withKey = { CONFIG_SIGNATURE_KEY: signingPem };

    it('signs an export with CONFIG_SIGNATURE_KEY and imports it back with nothing to change', async () => {
      const deps = await server(withKey);
      const exported = await exportConfiguration(deps, admin);
      assert.equal(exported.signed, true);
      const document = JSON.parse(exported.text) as Json;
      assert.deepEqual(Object.keys(document).sort(), ['clients', 'exported_at', 'format', 'issuer', 'policies', 'resources', 'roles', 'settings', 'signature', 'version']);
      assert.equal(document.signature.alg, 'Ed25519');
      assert.deepEqual(document.roles.users, { alice: ['admin'] });
      assert.equal(document.settings.tokenRateLimitPerClient.value, 600);
      assert.equal(document.clients[0].client_name, 'Reporting tool');
      assert.ok(!exported.text.includes('client_secret'), 'no secret or hash in an export');
      assert.equal(deps.audit.events.at(-1)?.type, 'admin.config.exported');

      const preview = await previewImport(exported.text, deps);
      assert.equal(preview.ok, true, JSON.stringify(preview.problems));
      assert.equal(preview.signature.status, 'valid');
      assert.ok(preview.sections.every((section) => section.added.length + section.changed.length + section.removed.length === 0));
      // Re-indented, the document still verifies: the signature covers its canonical form.
      assert.equal((await previewImport(JSON.stringify(document), deps)).ok, true);
    });

    it('refuses a hand-edited export because its signature no longer matches, and changes nothing', async () => {
      const deps = await server(withKey);
      const document = JSON.parse((await exportConfiguration(deps, admin)).text) as Json;
      document.settings.tokenRateLimitPerClient.value = 5;
      const outcome = await applyImport(JSON.stringify(document, null, 2), deps, { actor: admin });
      assert.equal(outcome.status, 'refused');
      assert.equal(outcome.status === 'refused' && outcome.preview.problems[0]?.path, 'signature');
      assert.match(outcome.status === 'refused' ? outcome.preview.problems[0]!.message : '', /changed after it was signed/);
      assert.equal(deps.settings.current().tokenRateLimitPerClient, 600);
      assert.equal(deps.settings.version, 0);
      assert.ok(!deps.audit.events.some((event) => event.type === 'admin.config.imported'));
    });

    it('refuses an unsigned document when CONFIG_SIGNATURE_KEY is set', async () => {
      const unsigned = await server();
      const text = (await exportConfiguration(unsigned, admin)).text;
      const preview = await previewImport(text, await server(withKey));
      assert.equal(preview.ok, false);
      assert.deepEqual(preview.problems, [{ path: 'signature', message: 'The document is refused because it is not signed.' }]);
    });

    it('exports unsigned without a key, and the import says the signature was not checked', async () => {
      const deps = await server();
      const exported = await exportConfiguration(deps, admin);
      assert.equal(exported.signed, false);
      assert.equal((JSON.parse(exported.text) as Json).signature, undefined);
      const preview = await previewImport(exported.text, deps);
      assert.equal(preview.signature.status, 'not_checked');
      assert.equal(preview.ok, true);
    });

    it('previews then applies settings, applications and role assignments together, and records the import', async () => {
      const deps = await server();
      const document = JSON.parse((await exportConfiguration(deps, admin)).text) as Json;
      document.settings.tokenRateLimitPerClient.value = 42;
      document.settings.cimdAllowedHosts.value = ['chatgpt.com'];
      document.roles.users.BOB = ['approver']; // user names are not case-sensitive
      document.clients = [{ client_id: 'ci-pipeline', client_name: 'CI pipeline', redirect_uris: ['https://ci.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'], source: 'operator' }];
      const text = JSON.stringify(document);

      const preview = await previewImport(text, deps);
      assert.equal(preview.ok, true, JSON.stringify(preview.problems));
      const byId = Object.fromEntries(preview.sections.map((section) => [section.id, section]));
      assert.deepEqual(byId.settings!.changed.map((entry) => [entry.key, entry.before, entry.after]), [['tokenRateLimitPerClient', 600, 42], ['cimdAllowedHosts', [], ['chatgpt.com']]]);
      assert.deepEqual(byId.clients!.added.map((entry) => entry.key), ['ci-pipeline']);
      assert.equal(byId.clients!.removed.length, 1);
      assert.deepEqual(byId['roles.users']!.added, [{ key: 'bob', after: ['approver'] }]);
      assert.equal(deps.settings.current().tokenRateLimitPerClient, 600, 'a preview applies nothing');

      const outcome = await applyImport(text, deps, { basis: preview.basis, actor: admin });
      assert.equal(outcome.status, 'applied');
      assert.equal(deps.settings.current().tokenRateLimitPerClient, 42);
      assert.deepEqual(deps.settings.current().cimdAllowedHosts, ['chatgpt.com']);
      assert.deepEqual((await deps.users.list()).find((user) => user.name === 'bob')?.roles, ['approver']);
      assert.deepEqual((await listClients(deps.store)).map((client) => client.client_id), ['ci-pipeline']);
      assert.equal(outcome.status === 'applied' && outcome.newSecrets[0]?.client_id, 'ci-pipeline', 'a confidential client new here gets a secret, shown once');
      const recorded = deps.audit.events.find((event) => event.type === 'admin.config.imported');
      assert.equal(recorded?.subject, 'sub-alice');
      assert.deepEqual((recorded?.changes as Json).clients, { added: 1, changed: 0, removed: 1 });
      assert.equal((await previewImport(text, deps)).sections.every((section) => section.added.length + section.changed.length + section.removed.length === 0), true);
    });

    it('refuses the whole import for one bad field, naming its path, and applies nothing', async () => {
      const deps = await server();
      const document = JSON.parse((await exportConfiguration(deps, admin)).text) as Json;
      document.settings.tokenRateLimitPerClient.value = 42;
      document.roles.users.bob = ['approver'];
      document.clients[0].redirect_uris = ['https://reports.example.com/callback#fragment'];
      const outcome = await applyImport(JSON.stringify(document), deps, { actor: admin });
      assert.equal(outcome.status, 'refused');
      assert.deepEqual(outcome.status === 'refused' && outcome.preview.problems.map((problem) => problem.path), ['clients.0.redirect_uris.0']);
      assert.equal(deps.settings.current().tokenRateLimitPerClient, 600);
      assert.deepEqual((await deps.users.list()).find((user) => user.name === 'bob')?.roles, []);

      document.clients[0].redirect_uris = ['https://reports.example.com/callback'];
      document.settings.tokenRateLimitPerClient.value = 0;
      document.roles.users.carol = ['admin'];
      const preview = await previewImport(JSON.stringify(document), deps);
      assert.deepEqual(preview.problems.map((problem) => problem.path).sort(), ['roles.users.carol', 'settings.tokenRateLimitPerClient.value']);
      assert.match(preview.problems.find((problem) => problem.path.startsWith('settings'))!.message, /at least 1/);
    });

    it('names the JSON path of a value the document schema refuses', async () => {
      const deps = await server();
      const document = JSON.parse((await exportConfiguration(deps, admin)).text) as Json;
      document.roles.users.alice = ['Admin!'];
      document.clients[0].client_secret = 'leaked';
      const preview = await previewImport(JSON.stringify(document), deps);
      assert.equal(preview.ok, false);
      assert.deepEqual(preview.problems.map((problem) => problem.path).sort(), ['clients.0.client_secret', 'roles.users.alice.0']);
      assert.equal((await previewImport('{"format": "portcullis-config"', deps)).problems[0]?.path, '(document)');
      for (const unreadable of ['{"settings": {"cimdMaxBytes": {"value": 1e999}}}', `{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}`]) {
        assert.match((await previewImport(unreadable, deps)).problems[0]?.message ?? '', /too large to represent .* or is nested more than 32 levels deep/);
      }
    });

    it('refuses a document whose resources differ from the configuration file, naming the resource', async () => {
      const deps = await server();
      const document = JSON.parse((await exportConfiguration(deps, admin)).text) as Json;
      document.resources[0].scopes.push('notes:delete');
      document.policies.elevation = {};
      const preview = await previewImport(JSON.stringify(document), deps);
      assert.equal(preview.ok, false);
      const uri = document.resources[0].uri as string;
      assert.deepEqual(preview.problems.map((problem) => problem.path), [`resources[${JSON.stringify(uri)}]`, `policies.elevation[${JSON.stringify(uri)}]`]);
      assert.match(preview.problems[0]!.message, /fixed by the configuration file \(CONFIG_FILE\)/);
    });

    it('refuses a setting the environment fixes when the document changes it', async () => {
      const deps = await server({ TOKEN_RATE_LIMIT_PER_CLIENT: '700' });
      const document = JSON.parse((await exportConfiguration(deps, admin)).text) as Json;
      assert.equal(document.settings.tokenRateLimitPerClient.source, 'environment');
      document.settings.tokenRateLimitPerClient.value = 5;
      const preview = await previewImport(JSON.stringify(document), deps);
      assert.deepEqual(preview.problems.map((problem) => [problem.path, problem.message]), [['settings.tokenRateLimitPerClient.value', 'is fixed by the environment (TOKEN_RATE_LIMIT_PER_CLIENT); change it there']]);
    });

    it('refuses to apply when the configuration changed after the preview', async () => {
      const deps = await server();
      const document = JSON.parse((await exportConfiguration(deps, admin)).text) as Json;
      document.settings.tokenRateLimitPerClient.value = 42;
      const preview = await previewImport(JSON.stringify(document), deps);
      await deps.settings.apply({ loginLockoutThreshold: 9 }, { expectedVersion: deps.settings.version, actor: 'bob' });
      const outcome = await applyImport(JSON.stringify(document), deps, { basis: preview.basis, actor: admin });
      assert.equal(outcome.status, 'conflict');
      assert.equal(deps.settings.current().tokenRateLimitPerClient, 600);
    });

    it('undoes every change of an import whose audit event cannot be written', async () => {
      const deps = await server();
      const document = JSON.parse((await exportConfiguration(deps, admin)).text) as Json;
      document.settings.tokenRateLimitPerClient.value = 42;
      document.roles.users.bob = ['approver'];
      document.clients = [];
      const failing = { ...deps, audit: { append: async (event: AuditEvent) => {
        if (event.type === 'admin.config.imported') throw new Error('audit log unavailable');
        return { seq: 1 };
      } } };
      await assert.rejects(applyImport(JSON.stringify(document), failing, { actor: admin }), /could not be recorded in the audit log/);
      assert.equal(deps.settings.current().tokenRateLimitPerClient, 600);
      assert.deepEqual((await deps.users.list()).find((user) => user.name === 'bob')?.roles, []);
      assert.equal((await listClients(deps.store)).length, 1);
      assert.equal((await applyImport(JSON.stringify(document), deps, { actor: admin })).status, 'applied', 'the import lock was released');
    });
  });
}
