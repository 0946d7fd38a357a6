import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/index.ts';
import { describeKeySource, loadKeyRing, type KeyRing } from '../keys/index.ts';
import type { Logger } from '../log/index.ts';
import { openStore, type Store } from '../storage/index.ts';
import { UserDirectory } from './accounts/users.ts';
import { createApp } from './app.ts';
import { loadCookieKeys } from './cookie-keys.ts';
import { csrfSecretFrom } from './interactions/csrf.ts';
import { createProvider } from './provider.ts';
import { ResourceRegistry } from './resources.ts';

export interface RunningAuthorizationServer {
  /** Where it listens, e.g. http://127.0.0.1:3000 (the issuer may differ behind a proxy). */
  url: string;
  issuer: string;
  keys: KeyRing;
  store: Store;
  users: UserDirectory;
  close(): Promise<void>;
}

/** Builds every service from the configuration and starts listening. */
export async function startAuthorizationServer(config: Config, log: Logger): Promise<RunningAuthorizationServer> {
  const keys = await loadKeyRing({ pem: config.rsaPrivateKeyPem, secretPath: config.rsaPrivateKeyPath, keysDir: config.keysDir });
  log.info({ kid: keys.signingKid, source: keys.source }, describeKeySource(keys));
  const cookieKeys = loadCookieKeys({ cookieKeys: config.cookieKeys, keysDir: config.keysDir });
  const store = await openStore({ dataDir: config.dataDir });
  const users = new UserDirectory(store);
  const resources = new ResourceRegistry(config.resources, config.accessTokenTtlSeconds);
  const provider = createProvider({ config, store, users, resources, signingKeys: keys.privateJwks(), cookieKeys });
  provider.on('server_error', (_ctx, error) => log.error({ err: { name: error.name, message: error.message } }, 'oidc-provider server error'));
  const app = createApp({ provider, store, users, resources, issuer: config.issuer, log, csrfSecret: csrfSecretFrom(cookieKeys) });

  const server: Server = app.listen({ port: config.port, ...(config.host ? { host: config.host } : {}) });
  try {
    await once(server, 'listening');
  } catch (error) {
    await store.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    issuer: config.issuer,
    keys,
    store,
    users,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}
