import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportSPKI, SignJWT } from 'jose';
import { createTokenVerifier, type TokenVerifierOptions } from '../../src/resource-server/index.ts';
import { rejectsWith } from './support/assertions.ts';
import { manualClock, startFixtureIssuer, type FixtureIssuer, type FixtureKey } from './support/fixture-issuer.ts';

const RESOURCE = 'api://notes-api';
const HOUR = 3600;
const COOLDOWN_MS = 30_000;

describe('token verifier against an independent (Entra-like) issuer', () => {
  let idp: FixtureIssuer;

  before(async () => {
    idp = await startFixtureIssuer();
  });
  after(() => idp.close());

  function setup(overrides: Partial<TokenVerifierOptions> = {}) {
    const clock = manualClock();
    const verifier = createTokenVerifier({ issuer: idp.issuer, resource: RESOURCE, requireTyp: false, now: clock.now, ...overrides });
    const claims = (extra: Record<string, unknown> = {}) => ({
      iss: idp.issuer, aud: RESOURCE, sub: 'user-oid-1', azp: 'entra-client', scp: ['notes.read', 'notes.write'],
      iat: clock.seconds(), nbf: clock.seconds(), exp: clock.seconds() + HOUR, jti: crypto.randomUUID(), ...extra,
    });
    return { clock, verifier, claims };
  }

  function jwks(): number {
    return idp.count('/jwks');
  }

  it('accepts a valid token and reports subject, client, scp scopes, audience and expiry', async () => {
    const { verifier, claims, clock } = setup();
    const token = await idp.sign(claims({ aud: [RESOURCE, 'other'] }));
    const verified = await verifier.verify(token, { requiredScopes: ['notes.read'] });
    assert.equal(verified.subject, 'user-oid-1');
    assert.equal(verified.clientId, 'entra-client');
    assert.deepEqual(verified.scopes, ['notes.read', 'notes.write']);
    assert.deepEqual(verified.audience, [RESOURCE, 'other']);
    assert.equal(verified.issuer, idp.issuer);
    assert.equal(verified.expiresAt, clock.seconds() + HOUR);
    assert.equal(typeof verified.jti, 'string');
    assert.equal(verified.claims.azp, 'entra-client');
  });

  it('reads scp as a space-separated string and appid as the client (Entra v1)', async () => {
    const { verifier, claims } = setup();
    const { azp: _azp, ...rest } = claims({ scp: 'notes.read  notes.write', appid: 'v1-app' });
    const verified = await verifier.verify(await idp.sign(rest));
    assert.deepEqual(verified.scopes, ['notes.read', 'notes.write']);
    assert.equal(verified.clientId, 'v1-app');
  });

  it('refuses an expired token (beyond the clock tolerance) but accepts one within it', async () => {
    const { verifier, claims, clock } = setup();
    const expired = await idp.sign(claims({ exp: clock.seconds() - 31 }));
    await rejectsWith(verifier.verify(expired), 'expired', expired);
    const withinTolerance = await idp.sign(claims({ exp: clock.seconds() - 10 }));
    assert.equal((await verifier.verify(withinTolerance)).subject, 'user-oid-1');
  });

  it('refuses a token that is not valid yet (nbf or iat in the future)', async () => {
    const { verifier, claims, clock } = setup();
    await rejectsWith(verifier.verify(await idp.sign(claims({ nbf: clock.seconds() + 120 }))), 'not_yet_valid');
    await rejectsWith(verifier.verify(await idp.sign(claims({ iat: clock.seconds() + 120 }))), 'not_yet_valid');
  });

  it('refuses a token from another issuer', async () => {
    const { verifier, claims } = setup();
    await rejectsWith(verifier.verify(await idp.sign(claims({ iss: 'https://login.example.test/other/v2.0' }))), 'wrong_issuer');
  });

  it('refuses a token for another resource, or without aud', async () => {
    const { verifier, claims } = setup();
    await rejectsWith(verifier.verify(await idp.sign(claims({ aud: 'api://another-api' }))), 'wrong_audience');
    await rejectsWith(verifier.verify(await idp.sign(claims({ aud: undefined }))), 'wrong_audience');
  });

  it('refuses a token without exp or sub as malformed', async () => {
    const { verifier, claims } = setup();
    await rejectsWith(verifier.verify(await idp.sign(claims({ exp: undefined }))), 'malformed');
    await rejectsWith(verifier.verify(await idp.sign(claims({ sub: undefined }))), 'malformed');
  });

  it('refuses a token without kid, before fetching any key', async () => {
    const { verifier, claims } = setup();
    const before = jwks();
    await rejectsWith(verifier.verify(await idp.sign(claims(), { header: { kid: undefined } })), 'missing_kid');
    assert.equal(jwks(), before);
  });

  it('refreshes the JWKS once for an unknown kid, then refuses it; 50 forged kids in the cool-down cause no more fetches', async () => {
    const { verifier, claims, clock } = setup();
    await verifier.verify(await idp.sign(claims()));
    const afterFirstFetch = jwks();
    clock.advance(COOLDOWN_MS);

    const forged = await idp.sign(claims(), { header: { kid: 'forged-0' } });
    await rejectsWith(verifier.verify(forged), 'unknown_kid', forged);
    assert.equal(jwks(), afterFirstFetch + 1);

    clock.advance(COOLDOWN_MS - 1);
    const flood = await Promise.all(Array.from({ length: 50 }, (_, index) => idp.sign(claims(), { header: { kid: `forged-${index + 1}` } })));
    for (const token of flood) await rejectsWith(verifier.verify(token), 'unknown_kid');
    assert.equal(jwks(), afterFirstFetch + 1);

    clock.advance(1);
    await rejectsWith(verifier.verify(forged), 'unknown_kid');
    assert.equal(jwks(), afterFirstFetch + 2, 'the next cool-down window allows one more refresh');
  });

  it('shares one refresh among concurrent requests with unknown kids', async () => {
    const { verifier, claims, clock } = setup();
    await verifier.verify(await idp.sign(claims()));
    const before = jwks();
    clock.advance(COOLDOWN_MS);
    const flood = await Promise.all(Array.from({ length: 50 }, (_, index) => idp.sign(claims(), { header: { kid: `concurrent-${index}` } })));
    const results = await Promise.allSettled(flood.map((token) => verifier.verify(token)));
    assert.ok(results.every((result) => result.status === 'rejected' && (result.reason as { code: string }).code === 'unknown_kid'));
    assert.equal(jwks(), before + 1);
  });

  it('does not refetch for an unknown kid within the cool-down of the last fetch', async () => {
    const { verifier, claims } = setup();
    await verifier.verify(await idp.sign(claims()));
    const before = jwks();
    await rejectsWith(verifier.verify(await idp.sign(claims(), { header: { kid: 'forged' } })), 'unknown_kid');
    assert.equal(jwks(), before);
  });

  it('refuses alg none without fetching keys', async () => {
    const { verifier, claims } = setup();
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const before = jwks();
    const unsigned = `${encode({ alg: 'none', typ: 'JWT', kid: idp.keys[0]!.kid })}.${encode(claims())}.`;
    await rejectsWith(verifier.verify(unsigned), 'unsupported_alg', unsigned);
    assert.equal(jwks(), before);
  });

  it('refuses an HS256 token signed with the public key as the secret (algorithm confusion)', async () => {
    const { verifier, claims } = setup();
    const key = idp.keys[0]!;
    const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
    const confused = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.kid }).sign(secret);
    await rejectsWith(verifier.verify(confused), 'unsupported_alg', confused);
    const verifierAllowingEverything = setup({ algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256'] }).verifier;
    await rejectsWith(verifierAllowingEverything.verify(confused), 'unsupported_alg');
  });

  it('refuses a token whose payload was tampered with', async () => {
    const { verifier, claims } = setup();
    const [header, payload, signature] = (await idp.sign(claims({ scp: ['notes.read'] }))).split('.') as [string, string, string];
    const widened = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scp: ['notes.read', 'notes.admin'] };
    const tampered = `${header}.${Buffer.from(JSON.stringify(widened)).toString('base64url')}.${signature}`;
    await rejectsWith(verifier.verify(tampered), 'invalid_signature', tampered);
  });

  it('refuses a token whose alg does not fit the key its kid names', async () => {
    const { verifier, claims } = setup({ algorithms: ['RS256', 'ES256'] });
    const ecKey = await idp.newKey('ES256');
    idp.publish([idp.keys[0]!, ecKey]);
    try {
      const forged = await idp.sign(claims(), { header: { kid: ecKey.kid } });
      await rejectsWith(verifier.verify(forged), 'unsupported_alg');
      assert.equal((await verifier.verify(await idp.sign(claims(), { key: ecKey }))).subject, 'user-oid-1', 'ES256 is accepted when allowed');
    } finally {
      idp.publish([idp.keys[0]!]);
    }
  });

  it('checks PS256 signatures, and refuses crit headers and RSA keys under 2048 bits', async () => {
    const { verifier, claims } = setup({ algorithms: ['RS256', 'PS256'] });
    const handMade = (bits: number, kid: string) => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      return { privateKey, key: { kid, alg: 'RS256' as const, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' } } as unknown as FixtureKey };
    };
    const signed = (privateKey: KeyObject, header: Record<string, unknown>, padding?: number) => {
      const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}`;
      const options = padding === undefined ? privateKey : { key: privateKey, padding, saltLength: 32 };
      return `${input}.${cryptoSign('sha256', Buffer.from(input), options).toString('base64url')}`;
    };
    const strong = handMade(2048, 'hand-made-2048');
    const weak = handMade(1024, 'hand-made-1024');
    idp.publish([idp.keys[0]!, strong.key, weak.key]);
    try {
      const pss = signed(strong.privateKey, { alg: 'PS256', typ: 'JWT', kid: strong.key.kid }, constants.RSA_PKCS1_PSS_PADDING);
      assert.equal((await verifier.verify(pss)).subject, 'user-oid-1');
      const pssAsPkcs1 = signed(strong.privateKey, { alg: 'RS256', typ: 'JWT', kid: strong.key.kid }, constants.RSA_PKCS1_PSS_PADDING);
      await rejectsWith(verifier.verify(pssAsPkcs1), 'invalid_signature');
      const critical = signed(strong.privateKey, { alg: 'RS256', typ: 'JWT', kid: strong.key.kid, crit: ['exp'], exp: 1 });
      await rejectsWith(verifier.verify(critical), 'unsupported_alg');
      const weakKey = signed(weak.privateKey, { alg: 'RS256', typ: 'JWT', kid: weak.key.kid });
      await rejectsWith(verifier.verify(weakKey), 'issuer_unreachable');
    } finally {
      idp.publish([idp.keys[0]!]);
    }
  });

  it('refuses an alg outside the allow-list even when the key would verify it', async () => {
    const { verifier, claims } = setup();
    const ecKey = await idp.newKey('ES256');
    idp.publish([idp.keys[0]!, ecKey]);
    try {
      await rejectsWith(verifier.verify(await idp.sign(claims(), { key: ecKey })), 'unsupported_alg');
    } finally {
      idp.publish([idp.keys[0]!]);
    }
  });

  it('requires typ at+jwt by default and accepts application/at+jwt', async () => {
    const { verifier, claims } = setup({ requireTyp: 'at+jwt' });
    await rejectsWith(verifier.verify(await idp.sign(claims())), 'wrong_type');
    assert.ok(await verifier.verify(await idp.sign(claims(), { header: { typ: 'application/at+jwt' } })));
    const defaults = createTokenVerifier({ issuer: idp.issuer, resource: RESOURCE, now: manualClock().now });
    await rejectsWith(defaults.verify(await idp.sign(claims())), 'wrong_type');
  });

  it('refuses garbage, missing and oversized tokens without fetching', async () => {
    const { verifier } = setup();
    const before = jwks();
    await rejectsWith(verifier.verify(''), 'missing_token');
    await rejectsWith(verifier.verify('not-a-jwt'), 'malformed');
    await rejectsWith(verifier.verify('a.b.c.d.e'), 'malformed');
    await rejectsWith(verifier.verify(`${Buffer.from('[1]').toString('base64url')}.e30.sig`), 'malformed');
    await rejectsWith(verifier.verify(`a.${'b'.repeat(40_000)}.c`), 'malformed');
    assert.equal(jwks(), before);
  });

  it('fails with insufficient_scope naming the missing and all required scopes', async () => {
    const { verifier, claims } = setup();
    const error = await rejectsWith(verifier.verify(await idp.sign(claims()), { requiredScopes: ['notes.read', 'notes.admin'] }), 'insufficient_scope');
    assert.deepEqual(error.missingScopes, ['notes.admin']);
    assert.deepEqual(error.requiredScopes, ['notes.read', 'notes.admin']);
  });

  it('fetches discovery and the JWKS once for 100 different tokens verified concurrently', async () => {
    const separate = await startFixtureIssuer();
    try {
      const clock = manualClock();
      const verifier = createTokenVerifier({ issuer: separate.issuer, resource: RESOURCE, requireTyp: false, now: clock.now });
      const tokens = await Promise.all(Array.from({ length: 100 }, (_, index) => separate.sign({
        iss: separate.issuer, aud: RESOURCE, sub: `user-${index}`, exp: clock.seconds() + HOUR, scp: ['notes.read'],
      })));
      const first = await Promise.all(tokens.slice(0, 50).map((token) => verifier.verify(token)));
      for (const token of tokens.slice(50)) await verifier.verify(token);
      assert.equal(first[7]!.subject, 'user-7');
      assert.equal(separate.count('/jwks'), 1);
      assert.equal(separate.count('/.well-known/openid-configuration'), 1);
      assert.equal(separate.count('/.well-known/oauth-authorization-server'), 1, 'RFC 8414 is tried first, once');

      clock.advance(60 * 60 * 1000);
      await verifier.verify(await separate.sign({ iss: separate.issuer, aud: RESOURCE, sub: 'later', exp: clock.seconds() + HOUR }));
      assert.equal(separate.count('/jwks'), 2, 'after the TTL the JWKS is fetched again');
      assert.equal(separate.count('/.well-known/openid-configuration'), 2, 'and so is discovery');
    } finally {
      await separate.close();
    }
  });

  it('picks up a rotated key (new kid) through the unknown-kid refresh', async () => {
    const rotating = await startFixtureIssuer({ alg: 'ES256' });
    try {
      const clock = manualClock();
      const verifier = createTokenVerifier({ issuer: rotating.issuer, resource: RESOURCE, requireTyp: false, algorithms: ['ES256'], now: clock.now });
      const payload = () => ({ iss: rotating.issuer, aud: RESOURCE, sub: 'user', exp: clock.seconds() + HOUR, jti: crypto.randomUUID() });
      const oldKey = rotating.keys[0]!;
      await verifier.verify(await rotating.sign(payload()));

      const newKey = await rotating.newKey('ES256');
      rotating.publish([newKey]);
      clock.advance(COOLDOWN_MS);
      assert.equal((await verifier.verify(await rotating.sign(payload(), { key: newKey }))).subject, 'user');
      assert.equal(rotating.count('/jwks'), 2);
      await rejectsWith(verifier.verify(await rotating.sign(payload(), { key: oldKey })), 'unknown_kid');
    } finally {
      await rotating.close();
    }
  });

  it('serves a repeated token from the cache, checks scopes on every hit, and never past exp', async () => {
    const { verifier, claims, clock } = setup();
    const token = await idp.sign(claims({ exp: clock.seconds() + 60 }));
    const first = await verifier.verify(token);
    assert.equal(await verifier.verify(token), first, 'the cached result is returned');
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.claims));
    await rejectsWith(verifier.verify(token, { requiredScopes: ['notes.admin'] }), 'insufficient_scope');

    clock.advance(60_000);
    assert.equal((await verifier.verify(token)).subject, 'user-oid-1', 'at exp the cache is bypassed, but the tolerance still applies');
    clock.advance(30_000);
    await rejectsWith(verifier.verify(token), 'expired');
  });

  it('discovers an issuer with a path through RFC 8414 path insertion', async () => {
    const tenant = await startFixtureIssuer({ path: '/tenant-1/v2.0', serveOAuthMetadata: true });
    try {
      const clock = manualClock();
      const verifier = createTokenVerifier({ issuer: tenant.issuer, resource: RESOURCE, requireTyp: false, now: clock.now });
      await verifier.verify(await tenant.sign({ iss: tenant.issuer, aud: RESOURCE, sub: 'u', exp: clock.seconds() + HOUR }));
      assert.equal(tenant.count('/.well-known/oauth-authorization-server/tenant-1/v2.0'), 1);
      assert.equal(tenant.count('/tenant-1/v2.0/.well-known/openid-configuration'), 0);
    } finally {
      await tenant.close();
    }
  });

  it('refuses to use metadata that names another issuer', async () => {
    const impostor = await startFixtureIssuer({ serveOAuthMetadata: true, metadataIssuer: 'https://someone-else.example' });
    try {
      const clock = manualClock();
      const verifier = createTokenVerifier({ issuer: impostor.issuer, resource: RESOURCE, requireTyp: false, now: clock.now });
      const error = await rejectsWith(verifier.verify(await impostor.sign({ iss: impostor.issuer, aud: RESOURCE, sub: 'u', exp: clock.seconds() + HOUR })), 'issuer_unreachable');
      assert.match(error.message, /names the issuer/);
      assert.equal(impostor.count('/jwks'), 0);
    } finally {
      await impostor.close();
    }
  });

  it('reports issuer_unreachable when discovery cannot be fetched', async () => {
    const clock = manualClock();
    const failingFetch = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const verifier = createTokenVerifier({ issuer: idp.issuer, resource: RESOURCE, requireTyp: false, now: clock.now, fetch: failingFetch });
    await rejectsWith(verifier.verify(await idp.sign({ iss: idp.issuer, aud: RESOURCE, sub: 'u', exp: clock.seconds() + HOUR })), 'issuer_unreachable');
  });

  it('keeps using its keys when a refresh after the TTL fails', async () => {
    const clock = manualClock();
    let down = false;
    const flakyFetch = (async (...args: Parameters<typeof fetch>) => {
      if (down) throw new TypeError('fetch failed');
      return fetch(...args);
    }) as typeof fetch;
    const verifier = createTokenVerifier({ issuer: idp.issuer, resource: RESOURCE, requireTyp: false, now: clock.now, fetch: flakyFetch });
    const payload = () => ({ iss: idp.issuer, aud: RESOURCE, sub: 'u', exp: clock.seconds() + HOUR, jti: crypto.randomUUID() });
    await verifier.verify(await idp.sign(payload()));
    down = true;
    clock.advance(2 * 60 * 60 * 1000);
    assert.equal((await verifier.verify(await idp.sign(payload()))).subject, 'u');
  });
});

describe('token verifier options', () => {
  it('refuses HS*, none and unknown algorithms at construction', () => {
    for (const algorithms of [['HS256'], ['none'], ['RS256', 'HS512'], ['EdDSA'], []]) {
      assert.throws(() => createTokenVerifier({ issuer: 'https://as.example', resource: 'https://rs.example', algorithms }), TypeError);
    }
  });

  it('requires https for the issuer except on loopback or with allowInsecureHttp', () => {
    assert.throws(() => createTokenVerifier({ issuer: 'http://as.example', resource: 'r' }), /https/);
    for (const issuer of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'https://as.example']) {
      assert.ok(createTokenVerifier({ issuer, resource: 'r' }));
    }
    assert.ok(createTokenVerifier({ issuer: 'http://as.internal', resource: 'r', allowInsecureHttp: true }));
  });

  it('refuses a missing resource and bad numbers', () => {
    assert.throws(() => createTokenVerifier({ issuer: 'https://as.example', resource: '' }), TypeError);
    assert.throws(() => createTokenVerifier({ issuer: 'https://as.example', resource: 'r', clockToleranceSeconds: -1 }), TypeError);
    assert.throws(() => createTokenVerifier({ issuer: 'https://as.example', resource: 'r', tokenCacheSize: 1.5 }), TypeError);
  });
});
