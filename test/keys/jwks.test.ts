import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadKeyRing, rotateKey } from '../../src/keys/index.ts';
import type { KeyRing } from '../../src/keys/index.ts';
import { noSecret, tempDir } from './fixtures.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

describe('JWKS views', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let ring: KeyRing;
  before(async () => {
    ({ dir: root, cleanup } = await tempDir());
    const keysDir = join(root, 'keys');
    await rotateKey(keysDir);
    await rotateKey(keysDir);
    ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });
  });
  after(() => cleanup());

  test('publicJwks has only public members', () => {
    const { keys } = ring.publicJwks();
    assert.equal(keys.length, 2);
    for (const jwk of keys) {
      assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
      assert.equal(jwk.kty, 'RSA');
      assert.equal(jwk.alg, 'RS256');
      assert.equal(jwk.use, 'sig');
    }
    assert.equal(keys[0]?.kid, ring.signingKid);
  });

  test('privateJwks has the full private key with kid, alg and use, signer first', () => {
    const { keys } = ring.privateJwks();
    assert.equal(keys[0]?.kid, ring.signingKid);
    for (const jwk of keys) {
      for (const member of [...PRIVATE_MEMBERS, 'kid', 'alg', 'use', 'n', 'e']) assert.equal(typeof jwk[member as keyof typeof jwk], 'string', member);
    }
  });

  test('mutating a returned JWKS does not change the ring', () => {
    const jwks = ring.publicJwks();
    jwks.keys.pop();
    if (jwks.keys[0]) jwks.keys[0].kid = 'changed';
    assert.equal(ring.publicJwks().keys.length, 2);
    assert.equal(ring.publicJwks().keys[0]?.kid, ring.signingKid);
  });

  test('logging or serialising the ring shows no key material', () => {
    const d = ring.privateJwks().keys[0]?.d ?? '';
    assert.ok(d.length > 100);
    assert.ok(!inspect(ring, { depth: Infinity }).includes(d));
    assert.ok(!JSON.stringify(ring).includes(d));
    assert.ok(!JSON.stringify(ring).includes(ring.publicJwks().keys[0]?.n ?? 'x'));
  });
});
