import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { runProject } from '../support/processes.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const settings = { tokenRateLimitPerClient: 77, clients: [{ client_id: 'reports', redirect_uris: ['https://reports.example.com/cb'] }] };

describe('CONFIG_FILE signed with CONFIG_SIGNATURE_KEY', () => {
  let dir: string;
  let file: string;
  const env = () => ({ DATA_DIR: join(dir, 'data'), KEYS_DIR: join(dir, 'keys'), CONFIG_FILE: file, AUDIT: 'off' });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-signed-config-'));
    file = join(dir, 'portcullis.json');
    await writeFile(file, JSON.stringify(settings));
    await writeFile(join(dir, 'public.pem'), publicPem);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses an unsigned file with one line naming CONFIG_FILE and CONFIG_SIGNATURE_KEY', () => {
    assert.throws(() => loadConfig({ ...env(), CONFIG_SIGNATURE_KEY: privatePem }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^CONFIG_FILE: .*portcullis\.json is refused because it is not signed; with CONFIG_SIGNATURE_KEY set it must carry a valid signature/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });

  it('is signed by `portcullis config sign`, then loads; a changed value breaks the signature and start-up stops with exit code 2', async () => {
    const signed = await runProject('src/cli/main.ts', ['config', 'sign', file], { env: { CONFIG_SIGNATURE_KEY: privatePem.replaceAll('\n', '\\n') } });
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stdout, /^signed .*portcullis\.json \(key [\w-]{16}\)/);
    const document = JSON.parse(await readFile(file, 'utf8')) as Record<string, any>;
    assert.equal(document.signature.alg, 'Ed25519');

    // The public half is enough to verify; the signature member is not a setting.
    const config = loadConfig({ ...env(), CONFIG_SIGNATURE_KEY: join(dir, 'public.pem') });
    assert.equal(config.tokenRateLimitPerClient, 77);
    assert.equal((config as unknown as Record<string, unknown>).signature, undefined);
    // Re-indented, it still verifies.
    await writeFile(file, JSON.stringify(document));
    assert.equal(loadConfig({ ...env(), CONFIG_SIGNATURE_KEY: publicPem }).tokenRateLimitPerClient, 77);

    document.tokenRateLimitPerClient = 7;
    await writeFile(file, JSON.stringify(document, null, 2));
    const started = await runProject('src/main.ts', [], { env: { ...env(), CONFIG_SIGNATURE_KEY: join(dir, 'public.pem') } });
    assert.equal(started.code, 2);
    assert.match(started.stderr, /^portcullis: CONFIG_FILE: .* is refused because its signature does not match its contents: it was changed after it was signed; with CONFIG_SIGNATURE_KEY set/);
    assert.equal(started.stderr.trim().split('\n').length, 1);
    // Without the key, the same file is read as before (the signature member is ignored).
    assert.equal(loadConfig(env()).tokenRateLimitPerClient, 7);
  });

  it('stops start-up with one line naming CONFIG_SIGNATURE_KEY when the key is unusable', () => {
    assert.throws(() => loadConfig({ ...env(), CONFIG_SIGNATURE_KEY: join(dir, 'missing.pem') }), /^ConfigError: CONFIG_SIGNATURE_KEY: cannot read ".*missing\.pem" \(ENOENT\)/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => loadConfig({ ...env(), CONFIG_SIGNATURE_KEY: rsa }), /^ConfigError: CONFIG_SIGNATURE_KEY: must be an Ed25519 key \(got rsa\)$/);
    assert.throws(() => loadConfig({ ...env(), CONFIG_SIGNATURE_KEY: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }), /^ConfigError: CONFIG_SIGNATURE_KEY: not a valid key/);
  });
});
