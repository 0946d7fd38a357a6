import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { startAuthorizationServer, type RunningAuthorizationServer } from '../../src/authorization-server/start.ts';
import { silentLogger, type Logger } from '../../src/log/index.ts';
import { freePort } from './ports.ts';

export const NOTES_RESOURCE = 'http://localhost:3001/mcp';
export const OTHER_RESOURCE = 'https://api.example.test/';
export const TEST_PASSWORD = 'correct horse battery staple';

export const PUBLIC_CLIENT = {
  client_id: 'test-public-client',
  client_name: 'Test Public Client',
  redirect_uris: ['http://127.0.0.1/callback', 'https://app.example.test/callback'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
} as const;

export const CONFIDENTIAL_CLIENT = {
  client_id: 'test-confidential-client',
  client_name: 'Test Confidential Client',
  client_secret: 'test-confidential-client-secret-0123456789',
  redirect_uris: ['https://chatgpt.com/aip/g-test/oauth/callback', 'https://chat.openai.com/aip/g-test/oauth/callback'],
  token_endpoint_auth_method: 'client_secret_post',
  grant_types: ['authorization_code', 'refresh_token'],
} as const;

export const SERVICE_CLIENT = {
  client_id: 'test-service-client',
  client_secret: 'test-service-client-secret-0123456789',
  redirect_uris: [],
  response_types: [],
  grant_types: ['client_credentials'],
  token_endpoint_auth_method: 'client_secret_basic',
} as const;

export interface TestServer extends RunningAuthorizationServer {
  config: Config;
  dirs: { dataDir: string; keysDir: string };
  /** Stops the server; the data and keys stay for a restart. */
  stop(): Promise<void>;
  /** Starts a new server on the same directories and port. */
  restart(): Promise<TestServer>;
  /** Stops the server and deletes its directories. */
  destroy(): Promise<void>;
}

/** An authorization server in this process, on loopback, with its own temp data and keys (and silent unless given a logger). */
export async function startTestServer(
  env: Record<string, string> = {}, dirs?: { dataDir: string; keysDir: string }, extraResources: Config['resources'] = [], log: Logger = silentLogger(),
): Promise<TestServer> {
  const root = dirs ? undefined : await mkdtemp(join(tmpdir(), 'portcullis-test-'));
  const directories = dirs ?? { dataDir: join(root!, 'data'), keysDir: join(root!, 'keys') };
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const config = {
    ...loadConfig({
      PORT: String(port), DATA_DIR: directories.dataDir, KEYS_DIR: directories.keysDir,
      RSA_PRIVATE_KEY_PATH: join(directories.keysDir, 'no-mounted-secret'), NODE_ENV: 'test', PASSWORD_HASH_COST: 'test', ...env,
    }),
  };
  config.resources = [
    { uri: NOTES_RESOURCE, name: 'Notes', scopes: ['notes:read', 'notes:write', 'notes:admin'], default: false },
    { uri: OTHER_RESOURCE, name: 'Other API', scopes: ['api:read'], default: false },
    ...extraResources,
  ];
  // The shared test clients, plus any that a CONFIG_FILE in `env` names.
  config.clients = [...[PUBLIC_CLIENT, CONFIDENTIAL_CLIENT, SERVICE_CLIENT].map((client) => structuredClone(client)) as unknown as Config['clients'], ...config.clients];
  const running = await startAuthorizationServer(config, log);
  const server: TestServer = {
    ...running,
    config,
    dirs: directories,
    stop: () => running.close(),
    restart: async () => startTestServer({ ...env, PORT: String(port) }, directories, extraResources, log),
    destroy: async () => {
      await running.close().catch(() => {});
      if (root) await rm(root, { recursive: true, force: true });
    },
  };
  return server;
}
