import assert from 'node:assert/strict';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify } from 'jose';
import { describeKeySource, listKeys, loadKeyRing, retireKey, rotateKey } from '../../src/keys/index.ts';
import type { KeyRing } from '../../src/keys/index.ts';
import { assertKeyConfigError, noSecret, tempDir } from './fixtures.ts';

async function signWith(ring: KeyRing): Promise<string> {
  const [jwk] = ring.privateJwks().keys;
  assert.ok(jwk);
  return new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).sign(await importJWK(jwk, 'RS256'));
}

describe('rotation', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  test('rotate makes a new signer and keeps the old key published', async () => {
    const keysDir = join(root, 'rotate');
    const before = await loadKeyRing({ secretPath: noSecret(root), keysDir });
    const oldToken = await signWith(before);

    const rotated = await rotateKey(keysDir);
    const after = await loadKeyRing({ secretPath: noSecret(root), keysDir });

    assert.equal(rotated.status, 'signing');
    assert.equal(after.source, 'keys-dir');
    assert.equal(after.signingKid, rotated.kid);
    assert.deepEqual(after.publicJwks().keys.map((k) => k.kid), [rotated.kid, before.signingKid]);
    assert.deepEqual(after.privateJwks().keys.map((k) => k.kid), [rotated.kid, before.signingKid]);
    await jwtVerify(oldToken, createLocalJWKSet(after.publicJwks()));
    assert.match(describeKeySource(after), /, 1 more published$/);
    assert.deepEqual(
      (await listKeys(keysDir)).map((k) => [k.kid, k.status]),
      [
        [before.signingKid, 'published'],
        [rotated.kid, 'signing'],
      ],
    );
  });

  test('retire removes the old key from the JWKS and deletes its PEM', async () => {
    const keysDir = join(root, 'retire');
    const first = await loadKeyRing({ secretPath: noSecret(root), keysDir });
    const rotated = await rotateKey(keysDir);

    const retired = await retireKey(keysDir, first.signingKid);
    const ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });

    assert.equal(retired.status, 'retired');
    assert.deepEqual(ring.publicJwks().keys.map((k) => k.kid), [rotated.kid]);
    await assert.rejects(access(join(keysDir, `${first.signingKid}.pem`)), { code: 'ENOENT' });
    const statuses = Object.fromEntries((await listKeys(keysDir)).map((k) => [k.kid, k.status]));
    assert.deepEqual(statuses, { [first.signingKid]: 'retired', [rotated.kid]: 'signing' });
  });

  test('retiring an already retired key is a no-op', async () => {
    const keysDir = join(root, 'retire-twice');
    const first = await loadKeyRing({ secretPath: noSecret(root), keysDir });
    await rotateKey(keysDir);
    await retireKey(keysDir, first.signingKid);
    const listed = await listKeys(keysDir);

    assert.equal((await retireKey(keysDir, first.signingKid)).status, 'retired');
    assert.deepEqual(await listKeys(keysDir), listed);
  });

  test('retiring the signing key is refused', async () => {
    const keysDir = join(root, 'retire-signer');
    const ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });

    await assertKeyConfigError(retireKey(keysDir, ring.signingKid), 'KEYS_DIR', /is the signing key; rotate first/);
    await access(join(keysDir, `${ring.signingKid}.pem`));
  });

  test('retiring an unknown kid is refused', async () => {
    const keysDir = join(root, 'retire-unknown');
    await assertKeyConfigError(retireKey(keysDir, 'nope'), 'KEYS_DIR', /no key with kid=nope/);
    await loadKeyRing({ secretPath: noSecret(root), keysDir });
    await assertKeyConfigError(retireKey(keysDir, '../../etc/passwd'), 'KEYS_DIR', /no key with kid=/);
  });

  test('rotate on an empty dir generates the first key, which a later load uses', async () => {
    const keysDir = join(root, 'rotate-empty');
    assert.deepEqual(await listKeys(keysDir), []);

    const first = await rotateKey(keysDir);
    const ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });

    assert.equal(ring.signingKid, first.kid);
    assert.equal(ring.source, 'keys-dir');
    assert.deepEqual((await readdir(keysDir)).sort(), [`${first.kid}.pem`, 'keyring.json'].sort());
  });
});
