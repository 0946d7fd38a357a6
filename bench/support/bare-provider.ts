/**
 * A bare oidc-provider for the token-endpoint baseline: the same signing key, client and resource
 * as the Portcullis it is compared with, its default in-memory adapter, nothing in front of it.
 * Settings come from BENCH_* variables; prints `listening <url>` when ready.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { loadKeyRing } from '../../src/keys/index.ts';

const port = Number(process.env.BENCH_PORT);
const issuer = `http://localhost:${port}`;
const resource = process.env.BENCH_RESOURCE!;
const scopes = process.env.BENCH_SCOPES!;
const client = JSON.parse(process.env.BENCH_CLIENT!) as ClientMetadata;
const keys = await loadKeyRing({ pem: process.env.BENCH_KEY_PEM, secretPath: '/nonexistent/bench-secret', keysDir: '/nonexistent/bench-keys' });

const provider = new Provider(issuer, {
  clients: [client],
  jwks: keys.privateJwks() as Configuration['jwks'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: scopes, audience: resource, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
    },
  },
});

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`listening ${issuer}\n`);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
