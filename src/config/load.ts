import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { demoNotesResource } from './demo-resource.ts';
import { configSchema, ENV_NAMES, type ParsedConfig, type ResourceConfig, type StaticClientConfig } from './schema.ts';
import { ConfigError } from './errors.ts';
import { checkSignature } from './signed-document.ts';
import { loadConfigSignatureKey, type ConfigSignatureKey } from './signature-key.ts';

export { ConfigError };

const MIN_CLIENT_SECRET_LENGTH = 32;

export interface Config extends Omit<ParsedConfig, 'issuer' | 'resources' | 'demoMcpResource' | 'workers' | 'auditDir' | 'auditOrigin'> {
  issuer: string;
  workers: number;
  /** AUDIT_DIR, or DATA_DIR/audit. */
  auditDir: string;
  /** AUDIT_ORIGIN, or the issuer's host and path + /audit. */
  auditOrigin: string;
  resources: ResourceConfig[];
  /** The demo notes MCP server's resource identifier: DEMO_MCP_RESOURCE, else http://localhost:$DEMO_MCP_PORT/mcp. */
  demoMcpResource: string;
  /** The certificates in OUTBOUND_CA_FILE, read at start-up. */
  outboundCa?: string;
  /** Where the file part came from, if any (for the start-up log). */
  configFile?: string;
  /** Settings given by the environment or CONFIG_FILE (the rest are defaults); live settings named here are fixed. */
  settingSources: Partial<Record<keyof ParsedConfig, 'environment' | 'config file'>>;
  /** CONFIG_SIGNATURE_KEY (environment only): CONFIG_FILE and imports must carry a signature it verifies; exports are signed with it. */
  configSignatureKey?: ConfigSignatureKey;
}

type Env = Record<string, string | undefined>;

// REDIS_URL may carry a password.
const SECRET_FIELDS = new Set(['rsaPrivateKeyPem', 'cookieKeys', 'redisUrl', 'auditSigningKeyPem', 'metricsToken', 'redisPassword', 'redisSentinelPassword', 'alertWebhookSecret', 'pamSecret']);

export function loadConfig(env: Env = process.env): Config {
  const configFile = env.CONFIG_FILE || undefined;
  const configSignatureKey = loadConfigSignatureKey(env.CONFIG_SIGNATURE_KEY);
  const fromFile = configFile ? readConfigFile(configFile, configSignatureKey) : {};
  const fromEnv = Object.fromEntries(
    Object.entries(ENV_NAMES)
      .map(([field, name]) => [field, env[name]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = configSchema.safeParse({ ...fromFile, ...fromEnv });
  if (!result.success) throw toConfigError(result.error, fromEnv, fromFile, configFile);
  const settingSources = Object.fromEntries([
    ...Object.keys(fromFile).map((field) => [field, 'config file'] as const),
    ...Object.keys(fromEnv).map((field) => [field, 'environment'] as const),
  ]);
  return { ...finish(result.data, env, configFile), settingSources, ...(configSignatureKey ? { configSignatureKey } : {}) };
}

function readConfigFile(path: string, signatureKey: ConfigSignatureKey | undefined): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('CONFIG_FILE', `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
  } catch {
    throw new ConfigError('CONFIG_FILE', `${path} is not a JSON object`);
  }
  const check = checkSignature(parsed, signatureKey);
  if (check.status === 'refused') {
    throw new ConfigError('CONFIG_FILE', `${path} is refused because ${check.reason}; with CONFIG_SIGNATURE_KEY set it must carry a valid signature (portcullis config sign ${path})`);
  }
  const { signature: _checked, ...settings } = parsed;
  return settings;
}

function toConfigError(error: z.ZodError, fromEnv: Record<string, unknown>, fromFile: Record<string, unknown>, configFile?: string): ConfigError {
  const issue = error.issues[0]!;
  const [field, ...rest] = issue.path.map(String);
  const envName = field ? (ENV_NAMES as Record<string, string>)[field] : undefined;
  const fromEnvironment = envName !== undefined && field! in fromEnv;
  const setting = fromEnvironment ? envName : `${configFile ?? 'config'}: ${[field, ...rest].join('.')}${resourceNamed(issue.path, fromFile)}`;
  const shown = fromEnvironment && !SECRET_FIELDS.has(field!) ? ` (got ${JSON.stringify(fromEnv[field!])})` : '';
  return new ConfigError(setting, issue.message.replace(/\s+/g, ' ') + shown);
}

/** A resource is named by its URI as well as its place in the list. */
function resourceNamed(path: PropertyKey[], fromFile: Record<string, unknown>): string {
  if (path[0] !== 'resources' || typeof path[1] !== 'number') return '';
  const uri = (fromFile.resources as Array<{ uri?: unknown }> | undefined)?.[path[1]]?.uri;
  return typeof uri === 'string' ? ` (resource ${uri})` : '';
}

function finish(parsed: ParsedConfig, env: Env, configFile?: string): Omit<Config, 'settingSources'> {
  const issuer = (parsed.issuer ?? `http://localhost:${parsed.port}`).replace(/\/$/, '');
  if (/[?#]/.test(issuer)) throw new ConfigError('ISSUER', 'must not contain a query or fragment');
  if (parsed.nodeEnv === 'production' && !issuer.startsWith('https://')) {
    throw new ConfigError('ISSUER', 'must be an https URL when NODE_ENV=production');
  }
  checkOutboundSettings(parsed);
  checkTestOnlySettings(parsed);
  checkPorts(parsed);
  checkRedisSettings(parsed);
  const outboundCa = parsed.outboundCaFile ? readCaFile(parsed.outboundCaFile) : undefined;
  const clients = parsed.clients.map((client, index) => checkStaticClient(withSecretFromEnv(client, index, env), index));
  const upstreamProviders = checkedUpstreamProviders(parsed, env);
  const demoMcpResource = parsed.demoMcpResource ?? `http://localhost:${parsed.demoMcpPort}/mcp`;
  const resources = parsed.resources ?? [demoNotesResource(demoMcpResource)];
  resources.forEach(checkElevationPolicy);
  const resourceUris = new Set<string>();
  resources.forEach((resource, index) => {
    if (resourceUris.has(resource.uri)) throw new ConfigError('resources', `${resource.uri} is listed twice`);
    resourceUris.add(resource.uri);
    checkResourceScopes(resource, `${configFile ?? 'config'}: resources.${index}`);
  });
  if (resources.filter((resource) => resource.default).length > 1) {
    throw new ConfigError('resources', 'at most one resource can be the default');
  }
  const workers = parsed.workers ?? (parsed.nodeEnv === 'production' ? availableParallelism() : 1);
  if (workers > 1 && parsed.adminPort !== undefined && parsed.adminPort === parsed.metricsPort) {
    throw new ConfigError('ADMIN_PORT', 'must differ from METRICS_PORT when WORKERS is more than 1 (the primary serves metrics, the workers the console)');
  }
  const issuerUrl = new URL(issuer);
  const auditDir = parsed.auditDir ?? join(parsed.dataDir, 'audit');
  const auditOrigin = parsed.auditOrigin ?? `${issuerUrl.host}${issuerUrl.pathname.replace(/\/$/, '')}/audit`;
  return {
    ...parsed, issuer, auditDir, auditOrigin, clients, upstreamProviders, resources, demoMcpResource, workers,
    ...(outboundCa ? { outboundCa } : {}), ...(configFile ? { configFile } : {}),
  };
}

/** "env:NAME" is the value of that environment variable; anything else is the secret itself. */
function secretValue(secret: string, env: Env, setting: string): string {
  if (!secret.startsWith('env:')) return secret;
  const value = env[secret.slice(4)];
  if (!value) throw new ConfigError(setting, `environment variable ${secret.slice(4)} is not set`);
  return value;
}

/** Secrets given as env:NAME are read; ids are unique; password sign-in is off only with another way in. */
function checkedUpstreamProviders(parsed: ParsedConfig, env: Env): ParsedConfig['upstreamProviders'] {
  const ids = new Set<string>();
  const providers = parsed.upstreamProviders.map((provider, index) => {
    if (ids.has(provider.id)) throw new ConfigError(`upstreamProviders[${index}].id`, `${provider.id} is used twice`);
    ids.add(provider.id);
    return provider.clientSecret
      ? { ...provider, clientSecret: secretValue(provider.clientSecret, env, `upstreamProviders[${index}].clientSecret`) } : provider;
  });
  if (parsed.passwordLogin === 'off' && providers.length === 0) {
    throw new ConfigError('PASSWORD_LOGIN', 'off needs at least one entry in upstreamProviders, or no one could sign in');
  }
  return providers;
}

function withSecretFromEnv(client: StaticClientConfig, index: number, env: Env): StaticClientConfig {
  return client.client_secret ? { ...client, client_secret: secretValue(client.client_secret, env, `clients[${index}].client_secret`) } : client;
}

/** A static secret must be hard to guess; only a confidential client may skip PKCE. */
function checkStaticClient(client: StaticClientConfig, index: number): StaticClientConfig {
  if (client.client_secret !== undefined && client.client_secret.length < MIN_CLIENT_SECRET_LENGTH) {
    throw new ConfigError(`clients[${index}].client_secret`, `the secret of client ${client.client_id} must be at least ${MIN_CLIENT_SECRET_LENGTH} characters (make one with: openssl rand -base64 32)`);
  }
  const confidential = client.token_endpoint_auth_method !== 'none' && (client.client_secret !== undefined || client.token_endpoint_auth_method === 'private_key_jwt');
  if (client.pkce === 'optional' && !confidential) {
    throw new ConfigError(`clients[${index}].pkce`, `client ${client.client_id} is public; only a confidential client (with a client_secret) may skip PKCE`);
  }
  return client;
}

/** Default scopes and described scopes must be scopes the resource defines. */
function checkResourceScopes(resource: ResourceConfig, setting: string): void {
  const defined = new Set(resource.scopes);
  const unknownDefault = resource.defaultScopes?.find((scope) => !defined.has(scope));
  if (unknownDefault) throw new ConfigError(`${setting}.defaultScopes`, `${unknownDefault} is not one of the resource's scopes`);
  const unknownDescribed = Object.keys(resource.scopeDescriptions ?? {}).find((scope) => !defined.has(scope));
  if (unknownDescribed) throw new ConfigError(`${setting}.scopeDescriptions`, `${unknownDescribed} is not one of the resource's scopes`);
  const unknownRuled = Object.keys(resource.scopeRoles ?? {}).find((scope) => !defined.has(scope));
  if (unknownRuled) throw new ConfigError(`${setting}.scopeRoles`, `${unknownRuled} is not one of the resource's scopes`);
}

function checkElevationPolicy(resource: ResourceConfig): void {
  const seen = new Set<string>();
  (resource.elevation ?? []).forEach((policy, index) => {
    for (const scope of policy.scopes) {
      const setting = `resources[${resource.uri}].elevation[${index}].scopes`;
      if (!resource.scopes.includes(scope)) throw new ConfigError(setting, `${scope} is not one of the resource's scopes`);
      if (seen.has(scope)) throw new ConfigError(setting, `${scope} is elevated by two entries; name it in one`);
      seen.add(scope);
    }
  });
}

function checkTestOnlySettings(parsed: ParsedConfig): void {
  if (parsed.passwordHashCost === 'test' && parsed.nodeEnv !== 'test') {
    throw new ConfigError('PASSWORD_HASH_COST', 'may be "test" only when NODE_ENV=test (it exists for the test suite only)');
  }
}

function checkOutboundSettings(parsed: ParsedConfig): void {
  if (parsed.alertWebhookUrl && !parsed.alertWebhookSecret) {
    throw new ConfigError('ALERT_WEBHOOK_SECRET', 'must be set when ALERT_WEBHOOK_URL is (alerts are signed with it)');
  }
  if (parsed.pamDecisionUrl && !parsed.pamSecret) throw new ConfigError('PAM_SECRET', 'must be set when PAM_DECISION_URL is (requests are signed with it)');
  if (parsed.nodeEnv === 'production' && parsed.outboundAllowLoopback) {
    throw new ConfigError('OUTBOUND_ALLOW_LOOPBACK', 'must not be true when NODE_ENV=production (it exists for the test suite only)');
  }
  if (parsed.cimdCacheMinSeconds > parsed.cimdCacheMaxSeconds) {
    throw new ConfigError('CIMD_CACHE_MIN_SECONDS', `must not be more than CIMD_CACHE_MAX_SECONDS (${parsed.cimdCacheMaxSeconds})`);
  }
}

/** Two listeners on one port would fail at start with "address in use"; say which settings clash instead. */
function checkPorts(parsed: ParsedConfig): void {
  const claims: Array<[setting: string, port: number]> = [['PORT', parsed.port]];
  if (parsed.demoMcp === 'on') claims.push(['DEMO_MCP_PORT', parsed.demoMcpPort]);
  if (parsed.metricsPort !== undefined) claims.push(['METRICS_PORT', parsed.metricsPort]);
  // The console may share the metrics listener: same port and host.
  if (parsed.adminPort !== undefined && !(parsed.adminPort === parsed.metricsPort && parsed.adminHost === parsed.metricsHost)) {
    if (parsed.adminPort === parsed.metricsPort && parsed.adminPort !== 0) throw new ConfigError('ADMIN_HOST', `must equal METRICS_HOST (${parsed.metricsHost}) when ADMIN_PORT and METRICS_PORT are the same port`);
    claims.push(['ADMIN_PORT', parsed.adminPort]);
  }
  for (const [index, [setting, port]] of claims.entries()) {
    const clash = claims.slice(0, index).find(([, other]) => other === port && port !== 0);
    if (clash) throw new ConfigError(setting, `${port} is already ${clash[0]}; each listener needs its own port`);
  }
}

/** One way to reach Redis; credentials apart from the URL only where there is no URL to carry them. */
function checkRedisSettings(parsed: ParsedConfig): void {
  const ways = [['REDIS_URL', parsed.redisUrl], ['REDIS_SENTINELS', parsed.redisSentinels], ['REDIS_CLUSTER_NODES', parsed.redisClusterNodes]] as const;
  const given = ways.filter(([, value]) => value !== undefined).map(([setting]) => setting);
  if (given.length > 1) throw new ConfigError(given[1]!, `set only one of ${given.join(' and ')}`);
  if (given[0] !== 'REDIS_URL') return;
  for (const [setting, value] of [['REDIS_USERNAME', parsed.redisUsername], ['REDIS_PASSWORD', parsed.redisPassword], ['REDIS_SENTINEL_PASSWORD', parsed.redisSentinelPassword]] as const) {
    if (value !== undefined) throw new ConfigError(setting, 'is for REDIS_SENTINELS or REDIS_CLUSTER_NODES; with REDIS_URL, put the credentials in the URL');
  }
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('OUTBOUND_CA_FILE', `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('OUTBOUND_CA_FILE', `${path} holds no PEM certificate`);
  return text;
}
