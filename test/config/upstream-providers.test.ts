import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

describe('configuration of company sign-in providers', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'portcullis-upstream-')); });
  after(() => rm(dir, { recursive: true, force: true }));

  async function withProviders(providers: unknown[], env: Record<string, string> = {}) {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify({ upstreamProviders: providers }));
    return () => loadConfig({ CONFIG_FILE: file, ...env });
  }

  const okta = { id: 'okta', name: 'Okta', issuer: 'https://example.okta.com/oauth2/default', clientId: 'abc', clientSecret: 'env:OKTA_SECRET' };

  it('reads a provider with safe defaults and its secret from the named variable', async () => {
    const [provider] = (await withProviders([okta], { OKTA_SECRET: 'from-the-environment' }))().upstreamProviders;
    assert.equal(provider!.clientSecret, 'from-the-environment');
    assert.deepEqual(provider!.scopes, ['openid', 'email', 'profile']);
    assert.equal(provider!.provision, false);
    assert.equal(provider!.requireVerifiedEmail, true);
    assert.deepEqual(provider!.claims, { email: 'email', name: 'name', groups: 'groups' });
  });

  it('names the setting for an unset secret variable, a repeated id, a plain-http issuer and a malformed role', async () => {
    assert.throws(await withProviders([okta]), (error: ConfigError) => error.setting === 'upstreamProviders[0].clientSecret' && /OKTA_SECRET/.test(error.message));
    assert.throws(await withProviders([okta, okta], { OKTA_SECRET: 'x' }), (error: ConfigError) => error.setting === 'upstreamProviders[1].id');
    assert.throws(await withProviders([{ ...okta, issuer: 'http://example.okta.com' }], { OKTA_SECRET: 'x' }), /upstreamProviders\.0\.issuer: must be an https URL/);
    assert.throws(await withProviders([{ ...okta, groupRoles: { admins: 'Admin!' } }], { OKTA_SECRET: 'x' }), /upstreamProviders\.0\.groupRoles\.admins: a role is/);
  });

  it('refuses PASSWORD_LOGIN=off when no provider is configured, since no one could sign in', async () => {
    assert.throws(() => loadConfig({ PASSWORD_LOGIN: 'off' }), (error: ConfigError) => error.setting === 'PASSWORD_LOGIN');
    assert.equal((await withProviders([okta], { OKTA_SECRET: 'x', PASSWORD_LOGIN: 'off' }))().passwordLogin, 'off');
  });
});
