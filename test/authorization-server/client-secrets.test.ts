import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientSecretMatches, generateClientSecret, hashClientSecret } from '../../src/authorization-server/clients/secrets.ts';

describe('client secret comparison', () => {
  it('accepts the right secret against a stored hash or a plain configured secret, again and again', () => {
    const secret = generateClientSecret();
    for (let attempt = 0; attempt < 3; attempt++) {
      assert.equal(clientSecretMatches(hashClientSecret(secret), secret), true);
      assert.equal(clientSecretMatches(secret, secret), true);
    }
  });

  it('refuses a wrong secret, a missing stored secret and a stored hash it did not write', () => {
    const secret = generateClientSecret();
    assert.equal(clientSecretMatches(hashClientSecret(secret), `${secret}x`), false);
    assert.equal(clientSecretMatches(secret, `${secret}x`), false);
    assert.equal(clientSecretMatches(undefined, secret), false);
    assert.equal(clientSecretMatches(`${hashClientSecret(secret)}=`, secret), false);
    assert.equal(clientSecretMatches('$sha256$short', secret), false);
  });
});
