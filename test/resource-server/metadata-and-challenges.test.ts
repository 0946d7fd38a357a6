import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bearerChallenge, discoveryUrls, elevationChallenge, extractBearerToken, insufficientScopeChallenge, invalidRequestChallenge, invalidTokenChallenge,
  metadataUrlFor, missingTokenChallenge, protectedResourceMetadata, quotedString, tokenErrorResponse, TokenVerificationError, type TokenErrorCode,
} from '../../src/resource-server/index.ts';

const RM = 'http://localhost:3001/.well-known/oauth-protected-resource/mcp';

describe('protected resource metadata (RFC 9728)', () => {
  it('builds the document with header-only bearer tokens', () => {
    assert.deepEqual(protectedResourceMetadata({
      resource: 'http://localhost:3001/mcp',
      authorizationServers: ['http://localhost:3000'],
      scopesSupported: ['notes:read', 'notes:write'],
      resourceName: 'Notes',
      documentation: 'https://docs.example.test/notes',
    }), {
      resource: 'http://localhost:3001/mcp',
      authorization_servers: ['http://localhost:3000'],
      scopes_supported: ['notes:read', 'notes:write'],
      bearer_methods_supported: ['header'],
      resource_name: 'Notes',
      resource_documentation: 'https://docs.example.test/notes',
    });
  });

  it('leaves optional members out and refuses fragments or no authorization server', () => {
    const metadata = protectedResourceMetadata({ resource: 'https://api.example.test/', authorizationServers: ['https://as.example.test'], scopesSupported: [] });
    assert.deepEqual(Object.keys(metadata), ['resource', 'authorization_servers', 'scopes_supported', 'bearer_methods_supported']);
    assert.throws(() => protectedResourceMetadata({ resource: 'https://api.example.test/#x', authorizationServers: ['https://as.example.test'], scopesSupported: [] }), TypeError);
    assert.throws(() => protectedResourceMetadata({ resource: 'https://api.example.test/', authorizationServers: [], scopesSupported: [] }), TypeError);
  });

  it('puts the well-known segment between host and path (RFC 9728 §3.1)', () => {
    assert.equal(metadataUrlFor('http://localhost:3001/mcp'), RM);
    assert.equal(metadataUrlFor('https://api.example.test/'), 'https://api.example.test/.well-known/oauth-protected-resource');
    assert.equal(metadataUrlFor('https://api.example.test'), 'https://api.example.test/.well-known/oauth-protected-resource');
    assert.equal(metadataUrlFor('https://mcp.example.test/tenants/a/mcp/'), 'https://mcp.example.test/.well-known/oauth-protected-resource/tenants/a/mcp');
    assert.equal(metadataUrlFor('https://mcp.example.test/mcp?v=2'), 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp?v=2');
  });
});

describe('issuer discovery URLs', () => {
  it('inserts the RFC 8414 segment before the path and appends the OIDC one', () => {
    assert.deepEqual(discoveryUrls('http://localhost:3000'), [
      'http://localhost:3000/.well-known/oauth-authorization-server', 'http://localhost:3000/.well-known/openid-configuration',
    ]);
    assert.deepEqual(discoveryUrls('https://login.example.test/tenant/v2.0'), [
      'https://login.example.test/.well-known/oauth-authorization-server/tenant/v2.0', 'https://login.example.test/tenant/v2.0/.well-known/openid-configuration',
    ]);
    assert.deepEqual(discoveryUrls('https://tenant.auth0.example/'), [
      'https://tenant.auth0.example/.well-known/oauth-authorization-server', 'https://tenant.auth0.example/.well-known/openid-configuration',
    ]);
  });
});

describe('WWW-Authenticate challenges', () => {
  it('401 without a token: resource_metadata and scope, no error attribute', () => {
    assert.equal(missingTokenChallenge({ resourceMetadata: RM, scope: ['notes:read'] }), `Bearer resource_metadata="${RM}", scope="notes:read"`);
    assert.equal(missingTokenChallenge({ resourceMetadata: RM }), `Bearer resource_metadata="${RM}"`);
  });

  it('401 for a bad token: invalid_token with a description', () => {
    assert.equal(
      invalidTokenChallenge({ resourceMetadata: RM, scope: ['notes:read'], description: 'The access token expired.' }),
      `Bearer error="invalid_token", error_description="The access token expired.", resource_metadata="${RM}", scope="notes:read"`,
    );
  });

  it('403: insufficient_scope lists every needed scope', () => {
    assert.equal(
      insufficientScopeChallenge({ resourceMetadata: RM, scope: ['notes:read', 'notes:write'], description: 'Needs notes:write.' }),
      `Bearer error="insufficient_scope", error_description="Needs notes:write.", resource_metadata="${RM}", scope="notes:read notes:write"`,
    );
  });

  it('400: invalid_request', () => {
    assert.equal(invalidRequestChallenge({ resourceMetadata: RM, description: 'Two tokens.' }), `Bearer error="invalid_request", error_description="Two tokens.", resource_metadata="${RM}"`);
  });

  it('401 step-up (RFC 9470): insufficient_user_authentication with max_age and acr_values', () => {
    assert.equal(
      elevationChallenge({ resourceMetadata: RM, maxAgeSeconds: 300, description: 'Sign in again.' }),
      `Bearer error="insufficient_user_authentication", error_description="Sign in again.", resource_metadata="${RM}", max_age="300"`,
    );
    assert.equal(elevationChallenge({ acrValues: ['mfa', 'phr'] }), 'Bearer error="insufficient_user_authentication", acr_values="mfa phr"');
    assert.throws(() => elevationChallenge({ maxAgeSeconds: -1 }), TypeError);
  });

  it('escapes quotes and backslashes and neutralises control and non-ASCII characters', () => {
    assert.equal(quotedString('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
    assert.equal(quotedString('a\r\nSet-Cookie: x=1'), '"a??Set-Cookie: x=1"');
    assert.equal(quotedString('café'), '"caf?"');
    assert.equal(bearerChallenge({ realm: 'r"1', error: 'invalid_token' }), 'Bearer realm="r\\"1", error="invalid_token"');
    assert.equal(bearerChallenge(), 'Bearer');
  });
});

describe('mapping verification errors to responses', () => {
  const context = { resourceMetadata: RM, scopes: ['notes:read'] };

  it('answers every code with the right status and challenge', () => {
    const expected: Record<TokenErrorCode, [number, string | undefined]> = {
      missing_token: [401, undefined], invalid_request: [400, 'invalid_request'], malformed: [401, 'invalid_token'],
      invalid_signature: [401, 'invalid_token'], unsupported_alg: [401, 'invalid_token'], missing_kid: [401, 'invalid_token'],
      unknown_kid: [401, 'invalid_token'], expired: [401, 'invalid_token'], not_yet_valid: [401, 'invalid_token'],
      wrong_issuer: [401, 'invalid_token'], wrong_audience: [401, 'invalid_token'], wrong_type: [401, 'invalid_token'],
      issuer_unreachable: [503, undefined], insufficient_scope: [403, 'insufficient_scope'],
    };
    for (const [code, [status, error]] of Object.entries(expected) as Array<[TokenErrorCode, [number, string | undefined]]>) {
      const response = tokenErrorResponse(new TokenVerificationError(code, 'x'), context);
      assert.equal(response.status, status, code);
      if (code === 'issuer_unreachable') assert.equal(response.wwwAuthenticate, undefined);
      else if (error === undefined) assert.doesNotMatch(response.wwwAuthenticate!, /error=/);
      else assert.match(response.wwwAuthenticate!, new RegExp(`^Bearer error="${error}"`), code);
      if (response.wwwAuthenticate) assert.match(response.wwwAuthenticate, /resource_metadata="http:\/\/localhost:3001\/\.well-known\/oauth-protected-resource\/mcp"/);
      assert.equal(typeof response.body.error_description, 'string');
    }
  });

  it('403 names all required scopes, granted ones included, and the missing ones in the description', () => {
    const error = new TokenVerificationError('insufficient_scope', 'x', { requiredScopes: ['notes:read', 'notes:write'], missingScopes: ['notes:write'] });
    const response = tokenErrorResponse(error, context);
    assert.equal(response.wwwAuthenticate, `Bearer error="insufficient_scope", error_description="The access token lacks the scope(s): notes:write.", resource_metadata="${RM}", scope="notes:read notes:write"`);
    assert.deepEqual(response.body, { error: 'insufficient_scope', error_description: 'The access token lacks the scope(s): notes:write.' });
  });
});

describe('reading the Authorization header', () => {
  it('returns the token of a single Bearer credential (scheme case-insensitive)', () => {
    assert.equal(extractBearerToken({ authorization: 'Bearer abc.def.ghi' }), 'abc.def.ghi');
    assert.equal(extractBearerToken({ authorization: 'bearer   abc+/=' }), 'abc+/=');
    assert.equal(extractBearerToken({ authorization: ['Bearer abc'] }), 'abc');
  });

  it('treats no header as a missing token', () => {
    for (const authorization of [undefined, '', '  ']) {
      assert.throws(() => extractBearerToken({ authorization }), (error: TokenVerificationError) => error.code === 'missing_token');
    }
  });

  it('refuses two tokens, other schemes, empty credentials and tokens in the query as invalid_request', () => {
    const cases = [
      { authorization: 'Bearer a b' }, { authorization: 'Bearer a, Bearer b' }, { authorization: ['Bearer a', 'Bearer b'] },
      { authorization: 'Token abc.def.ghi' }, { authorization: 'abc.def.ghi' }, { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' }, { authorization: 'Bearer "abc"' }, { authorization: 'Bearer abc', accessTokenInQuery: true },
      { authorization: undefined, accessTokenInQuery: true },
    ];
    for (const parts of cases) {
      assert.throws(() => extractBearerToken(parts), (error: TokenVerificationError) => error.code === 'invalid_request', JSON.stringify(parts));
    }
  });
});
