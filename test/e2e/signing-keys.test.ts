import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { NOTES_RESOURCE, SERVICE_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { client, discover } from '../support/oauth-client.ts';
import { runProject } from '../support/processes.ts';

async function serviceToken(server: TestServer): Promise<string> {
  const service = await discover(server, SERVICE_CLIENT.client_id, client.ClientSecretBasic(SERVICE_CLIENT.client_secret));
  return (await client.clientCredentialsGrant(service, { scope: 'notes:read', resource: NOTES_RESOURCE })).access_token;
}

async function publishedJwks(server: TestServer): Promise<JSONWebKeySet> {
  return (await fetch(new URL('/jwks', server.issuer))).json() as Promise<JSONWebKeySet>;
}

describe('signing keys across restarts, sources and rotation', () => {
  let root: string;
  before(async () => { root = await mkdtemp(join(tmpdir(), 'portcullis-keys-e2e-')); });
  after(() => rm(root, { recursive: true, force: true }));

  it('keeps the generated key across a restart: same kid, and tokens issued before still verify', async () => {
    const first = await startTestServer();
    try {
      const token = await serviceToken(first);
      const kid = first.keys.signingKid;
      await first.stop();
      const second = await first.restart();
      try {
        assert.equal(second.keys.signingKid, kid);
        const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL('/jwks', second.issuer)), { audience: NOTES_RESOURCE });
        assert.equal(payload.client_id, SERVICE_CLIENT.client_id);
      } finally {
        await second.stop();
      }
    } finally {
      await first.destroy();
    }
  });

  it('signs with the key from RSA_PRIVATE_KEY_PEM, PKCS#1 or PKCS#8, the same kid on every instance', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const a = await startTestServer({ RSA_PRIVATE_KEY_PEM: pkcs1 });
    const b = await startTestServer({ RSA_PRIVATE_KEY_PEM: pkcs8 });
    try {
      assert.equal(a.keys.source, 'env');
      assert.equal(a.keys.signingKid, b.keys.signingKid);
      const token = await serviceToken(a);
      await jwtVerify(token, createLocalJWKSet(await publishedJwks(b)), { audience: NOTES_RESOURCE });
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });

  it('signs with a key mounted as a secret file at RSA_PRIVATE_KEY_PATH', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const path = join(root, 'rsa_private_key');
    await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const server = await startTestServer({ RSA_PRIVATE_KEY_PATH: path });
    try {
      assert.equal(server.keys.source, 'file');
      const token = await serviceToken(server);
      await jwtVerify(token, createLocalJWKSet(await publishedJwks(server)), { audience: NOTES_RESOURCE });
    } finally {
      await server.destroy();
    }
  });

  it('rotates with the CLI: after a restart both keys are published, the new one signs, and retire unpublishes the old', async () => {
    const server = await startTestServer();
    const env = { KEYS_DIR: server.dirs.keysDir, DATA_DIR: server.dirs.dataDir, KEY_ACTIVATION_DELAY_SECONDS: '0' };
    try {
      const oldKid = server.keys.signingKid;
      const oldToken = await serviceToken(server);
      await server.stop();

      const rotated = await runProject('src/cli/main.ts', ['keys', 'rotate'], { env });
      assert.equal(rotated.code, 0, rotated.stderr);
      const listed = await runProject('src/cli/main.ts', ['keys', 'list', '--json'], { env });
      const keys = JSON.parse(listed.stdout) as Array<{ kid: string; status: string; createdAt: string }>;
      assert.deepEqual(keys.map((key) => key.status).sort(), ['published', 'signing']);
      const newKid = keys.find((key) => key.status === 'signing')!.kid;
      assert.notEqual(newKid, oldKid);

      const afterRotation = await server.restart();
      try {
        assert.equal(afterRotation.keys.signingKid, newKid);
        const published = await publishedJwks(afterRotation);
        assert.deepEqual(published.keys.map((key) => key.kid), [newKid, oldKid]);
        await jwtVerify(oldToken, createLocalJWKSet(published), { audience: NOTES_RESOURCE });
        const newToken = await serviceToken(afterRotation);
        const { protectedHeader } = await jwtVerify(newToken, createLocalJWKSet(published), { audience: NOTES_RESOURCE });
        assert.equal(protectedHeader.kid, newKid);
      } finally {
        await afterRotation.stop();
      }

      const refused = await runProject('src/cli/main.ts', ['keys', 'retire', newKid], { env });
      assert.equal(refused.code, 2, 'the signing key cannot be retired');
      const retired = await runProject('src/cli/main.ts', ['keys', 'retire', oldKid], { env });
      assert.equal(retired.code, 0, retired.stderr);
      const afterRetire = await server.restart();
      try {
        assert.deepEqual((await publishedJwks(afterRetire)).keys.map((key) => key.kid), [newKid]);
      } finally {
        await afterRetire.stop();
      }
    } finally {
      await server.destroy();
    }
  });
});
