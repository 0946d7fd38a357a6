import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openAuditTrail, type AuditTrail } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import { createOutboundFetch } from '../http/outbound/index.ts';
import { describeKeySource, loadKeyRing, type KeyRing } from '../keys/index.ts';
import type { Logger } from '../log/index.ts';
import { openStore, type Store } from '../storage/index.ts';
import { UserDirectory } from './accounts/users.ts';
import { createApp } from './app.ts';
import { auditProtocolEvents, recordEvent } from './audit-trail.ts';
import { loadCookieKeys } from './cookie-keys.ts';
import { csrfSecretFrom } from './interactions/csrf.ts';
import { createProvider, OUTBOUND_MAX_BYTES } from './provider.ts';
import { ResourceRegistry } from './resources.ts';

export interface RunningAuthorizationServer {
  /** Where it listens, e.g. http://127.0.0.1:3000 (the issuer may differ behind a proxy). */
  url: string;
  issuer: string;
  keys: KeyRing;
  store: Store;
  users: UserDirectory;
  audit: AuditTrail;
  close(): Promise<void>;
}

/** Builds every service from the configuration and starts listening. */
export async function startAuthorizationServer(config: Config, log: Logger): Promise<RunningAuthorizationServer> {
  const keys = await loadKeyRing({ pem: config.rsaPrivateKeyPem, secretPath: config.rsaPrivateKeyPath, keysDir: config.keysDir });
  log.info({ kid: keys.signingKid, source: keys.source }, describeKeySource(keys));
  const cookieKeys = loadCookieKeys({ cookieKeys: config.cookieKeys, keysDir: config.keysDir });
  const audit = await openAuditTrail(config, log);
  const store = await openStore({ dataDir: config.dataDir }).catch(async (error: unknown) => {
    await audit.close();
    throw error;
  });
  const users = new UserDirectory(store);
  const resources = new ResourceRegistry(config.resources, config.accessTokenTtlSeconds);
  const outboundFetch = createOutboundFetch({
    log, allowLoopback: config.outboundAllowLoopback, maxResponseBytes: OUTBOUND_MAX_BYTES, ...(config.outboundCa ? { extraCa: config.outboundCa } : {}),
  });
  logRegistrationPolicy(config, log);
  const provider = createProvider({ config, store, users, resources, signingKeys: keys.privateJwks(), cookieKeys, log, outboundFetch });
  auditProtocolEvents(provider, audit.sink, log);
  provider.on('server_error', (_ctx, error) => log.error({ err: { name: error.name, message: error.message } }, 'oidc-provider server error'));
  const app = createApp({
    provider, store, users, resources, issuer: config.issuer, log, csrfSecret: csrfSecretFrom(cookieKeys), audit: audit.sink,
    registration: { mode: config.registration, rateLimit: { max: config.registrationRateLimit, windowSeconds: config.registrationRateLimitWindowSeconds } },
  });

  const server: Server = app.listen({ port: config.port, ...(config.host ? { host: config.host } : {}) });
  try {
    await once(server, 'listening');
  } catch (error) {
    await store.close();
    await audit.close();
    throw error;
  }
  await recordEvent(audit.sink, log, {
    type: 'config.loaded', issuer: config.issuer, signing_kid: keys.signingKid, key_source: keys.source, config_file: config.configFile,
    resources: config.resources.map((resource) => resource.uri), registration: config.registration, cimd: config.cimd,
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    issuer: config.issuer,
    keys,
    store,
    users,
    audit,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      await audit.close();
    },
  };
}

/** Says at start which clients may introduce themselves, and warns about the test-only switch. */
function logRegistrationPolicy(config: Config, log: Logger): void {
  log.info({
    registration: config.registration,
    cimd: config.cimd,
    cimdAllowedHosts: config.cimdAllowedHosts.length ? config.cimdAllowedHosts : 'any public host',
  }, 'client onboarding: dynamic registration and client metadata documents');
  if (config.outboundAllowLoopback) log.warn('OUTBOUND_ALLOW_LOOPBACK=true: outbound fetches may reach loopback (test suites only)');
}
