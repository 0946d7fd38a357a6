import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProject } from '../support/processes.ts';

describe('start-up with bad configuration', () => {
  let root: string;
  before(async () => { root = await mkdtemp(join(tmpdir(), 'portcullis-startup-')); });
  after(() => rm(root, { recursive: true, force: true }));

  async function start(env: Record<string, string>) {
    return runProject('src/main.ts', [], {
      env: { DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys'), RSA_PRIVATE_KEY_PATH: join(root, 'absent'), PORT: '0', ...env },
    });
  }

  function assertOneLineNaming(result: { code: number | null; stderr: string; stdout: string }, setting: string) {
    assert.equal(result.code, 2, `exit code 2, got ${result.code}: ${result.stderr}`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, got: ${result.stderr}`);
    assert.match(lines[0]!, new RegExp(`^portcullis: ${setting}:`));
    assert.doesNotMatch(result.stderr + result.stdout, /\n\s+at /, 'no stack trace');
  }

  it('stops with exit code 2 and one line naming PORT when PORT is not a number', async () => {
    assertOneLineNaming(await start({ PORT: 'eighty' }), 'PORT');
  });

  it('stops naming ISSUER when it is not an http(s) URL', async () => {
    assertOneLineNaming(await start({ ISSUER: 'ftp://auth.example' }), 'ISSUER');
  });

  it('stops naming ISSUER when production runs on plain http', async () => {
    assertOneLineNaming(await start({ NODE_ENV: 'production', ISSUER: 'http://auth.example' }), 'ISSUER');
  });

  it('stops naming OUTBOUND_ALLOW_LOOPBACK when the test-only switch is on in production', async () => {
    assertOneLineNaming(await start({ NODE_ENV: 'production', ISSUER: 'https://auth.example', OUTBOUND_ALLOW_LOOPBACK: 'true' }), 'OUTBOUND_ALLOW_LOOPBACK');
  });

  it('stops naming RSA_PRIVATE_KEY_PEM when the key is malformed, without echoing it', async () => {
    const result = await start({ RSA_PRIVATE_KEY_PEM: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----' });
    assertOneLineNaming(result, 'RSA_PRIVATE_KEY_PEM');
    assert.doesNotMatch(result.stderr, /not-a-key/);
  });

  it('stops naming RSA_PRIVATE_KEY_PATH when the mounted key is too small', async () => {
    const path = join(root, 'small.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    assertOneLineNaming(await start({ RSA_PRIVATE_KEY_PATH: path }), 'RSA_PRIVATE_KEY_PATH');
  });

  it('stops naming REDIS_URL when it is not a redis URL, without echoing it', async () => {
    const result = await start({ REDIS_URL: 'http://user:hunter2@redis.example:6379' });
    assertOneLineNaming(result, 'REDIS_URL');
    assert.doesNotMatch(result.stderr, /hunter2/);
  });

  it('stops with exit code 2 naming REDIS_URL, without its password, when Redis cannot be reached', async () => {
    const result = await start({ REDIS_URL: 'redis://:hunter2@127.0.0.1:1' });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr.trim(), /^portcullis: redis store unavailable \(REDIS_URL=redis:\/\/127\.0\.0\.1:1\): cannot connect/);
    assert.doesNotMatch(result.stderr, /hunter2/);
  });

  it('stops with exit code 2 naming REDIS_SENTINELS, without the password, when no sentinel answers', async () => {
    const result = await start({ REDIS_SENTINELS: '127.0.0.1:1', REDIS_PASSWORD: 'hunter2-secret', DEMO_MCP: 'off' });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr.trim(), /^portcullis: redis store unavailable \(REDIS_SENTINELS=127\.0\.0\.1:1 \(mymaster\)\): cannot connect/);
    assert.doesNotMatch(result.stderr + result.stdout, /hunter2/);
  });

  it('stops naming AUDIT_SIGNING_KEY_PEM when the audit key is not Ed25519, without echoing it', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const result = await start({ AUDIT_SIGNING_KEY_PEM: pem });
    assertOneLineNaming(result, 'AUDIT_SIGNING_KEY_PEM');
    assert.equal(result.stderr.includes(pem.split('\n')[1]!), false);
  });

  it('stops naming CONFIG_FILE when the file is not JSON', async () => {
    const path = join(root, 'bad.json');
    await writeFile(path, '{ resources: nope');
    assertOneLineNaming(await start({ CONFIG_FILE: path }), 'CONFIG_FILE');
  });

  it('names the field of the config file that is wrong', async () => {
    const path = join(root, 'bad-resource.json');
    await writeFile(path, JSON.stringify({ resources: [{ uri: 'not a url', scopes: ['a'] }] }));
    const result = await start({ CONFIG_FILE: path });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /resources\.0\.uri/);
  });

  it('stops naming LOG_LEVEL when it is not a log level', async () => {
    assertOneLineNaming(await start({ LOG_LEVEL: 'verbose' }), 'LOG_LEVEL');
  });

  it('stops naming METRICS_PORT when it is the same as PORT, without echoing METRICS_TOKEN', async () => {
    const result = await start({ PORT: '3999', METRICS_PORT: '3999', METRICS_TOKEN: 'a-metrics-token-of-some-length' });
    assertOneLineNaming(result, 'METRICS_PORT');
    assert.doesNotMatch(result.stderr + result.stdout, /a-metrics-token/);
  });

  it('stops naming HOST when its name does not resolve or is not an address of this machine', async () => {
    assertOneLineNaming(await start({ HOST: 'no-such-host.invalid', DEMO_MCP: 'off', AUDIT: 'off' }), 'HOST');
    assertOneLineNaming(await start({ HOST: '192.0.2.1', DEMO_MCP: 'off', AUDIT: 'off' }), 'HOST');
  });

  it('stops naming the static client whose secret is shorter than 32 characters, without echoing it', async () => {
    const path = join(root, 'short-secret.json');
    await writeFile(path, JSON.stringify({ clients: [{ client_id: 'chatgpt-action', client_secret: 'env:ACTION_SECRET', redirect_uris: ['https://chatgpt.com/aip/g-1/oauth/callback'] }] }));
    const result = await start({ CONFIG_FILE: path, ACTION_SECRET: 'too-short-secret' });
    assertOneLineNaming(result, 'clients\\[0\\]\\.client_secret');
    assert.match(result.stderr, /client chatgpt-action must be at least 32 characters/);
    assert.equal(result.stderr.includes('too-short-secret'), false);
  });
});

