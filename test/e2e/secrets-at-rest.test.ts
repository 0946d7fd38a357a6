import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { DB_FILE_NAME } from '../../src/storage/embedded.ts';
import { NOTES_RESOURCE, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, client, codeFlow } from '../support/oauth-client.ts';
import { deleteKeysUnder, dumpUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';
import { register } from '../support/registration.ts';

const REDIRECT_URI = 'https://claude.ai/api/mcp/auth_callback';

/** Every key and value in the embedded database file, as text. */
function dumpEmbedded(server: TestServer): string {
  const db = new DatabaseSync(join(server.dirs.dataDir, DB_FILE_NAME), { readOnly: true });
  try {
    const rows = db.prepare('SELECT key, value FROM records UNION ALL SELECT tag, NULL FROM tags').all() as Array<{ key: string; value: string | null }>;
    return rows.map((row) => `${row.key}\n${row.value ?? ''}`).join('\n');
  } finally {
    db.close();
  }
}

const engines = [
  { name: 'embedded', env: () => ({}), dump: (server: TestServer) => Promise.resolve(dumpEmbedded(server)), cleanup: async () => {} },
  (() => {
    const prefix = uniqueRedisPrefix('test:at-rest');
    return { name: 'redis', env: () => ({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix }), dump: () => dumpUnder(prefix), cleanup: () => deleteKeysUnder(prefix) };
  })(),
];

for (const engine of engines) {
  describe(`credentials at rest (${engine.name} store)`, () => {
    it('keeps no authorization code, refresh token or client secret that a copy of the store would reveal, and they still work', async () => {
      const server = await startTestServer(engine.env());
      try {
        const user = await addUser(server);
        const registered = await register(server, {
          client_name: 'At rest', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'], token_endpoint_auth_method: 'client_secret_post',
        });
        assert.equal(registered.status, 201, JSON.stringify(registered.body));
        const secret = registered.body.client_secret!;
        const config = await client.discovery(new URL(server.issuer), registered.body.client_id!, undefined, client.ClientSecretPost(secret), {
          execute: [client.allowInsecureRequests],
        });
        const { tokens, callback } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
        const code = callback.searchParams.get('code')!;
        const refreshToken = tokens.refresh_token!;

        const dump = await engine.dump(server);
        assert.match(dump, /oidc:RefreshToken:sha256\./, 'the refresh token is stored, under its hash');
        assert.match(dump, /oidc:AuthorizationCode:sha256\./, 'the used code is kept (consumed) under its hash');
        for (const [name, credential] of [['authorization code', code], ['refresh token', refreshToken], ['client secret', secret]] as const) {
          assert.ok(!dump.includes(credential), `the ${name} appears in the store`);
        }

        const refreshed = await client.refreshTokenGrant(config, refreshToken);
        assert.ok(refreshed.access_token, 'lookups by hash find the refresh token, and the hashed secret authenticates the client');
      } finally {
        await server.destroy();
        await engine.cleanup();
      }
    });
  });
}
