import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The one configuration schema. A JSON file (CONFIG_FILE) and the environment fill the same
 * shape; the environment wins. Each field's env name is in ENV_NAMES so errors can name it.
 */
// 0 lets the operating system pick a free port (tests, one-off runs).
const port = z.coerce.number({ error: 'must be a port number (0-65535)' }).int().min(0).max(65535);
const seconds = z.coerce.number({ error: 'must be a whole number of seconds' }).int().min(1);
const absoluteUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });

const wholeNumber = z.coerce.number({ error: 'must be a whole number' }).int();
const onOff = z.enum(['on', 'off']);
const trueFalse = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')], { error: 'must be true or false' });
/** "chatgpt.com" or "*.example.com" (any subdomain, not the name itself). */
const hostPattern = z.string().toLowerCase().regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'each entry is a host name such as chatgpt.com or *.example.com');
/** A list given as an array (file) or a comma- or space-separated string (environment). */
const hostList = z.preprocess((value) => typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value, z.array(hostPattern));

/** An IP address or a host name to listen on (HOST, METRICS_HOST), e.g. 0.0.0.0, ::1 or localhost. */
const listenHost = z.string().refine(
  (value) => isIP(value) !== 0 || (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(value) && !/^[\d.]+$/.test(value)),
  'must be an IP address or a host name, e.g. 0.0.0.0, :: or localhost',
);
/** "10.0.0.0/8", "::1" or "2001:db8::/32": an address with an optional prefix length that fits its family. */
function isAddressOrRange(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address!);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** "redis-1:26379" or "[::1]:6379", one node of a Sentinel or Cluster list. */
const hostPort = z.string().regex(/^([a-z0-9.-]+|\[[0-9a-f:.]+\]):\d{1,5}$/i, 'each entry is host:port, e.g. 10.0.0.5:26379 or [::1]:6379');
const hostPortList = z.preprocess((value) => typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value, z.array(hostPort).min(1));

export const resourceUri = absoluteUrl.refine((uri) => !uri.includes('#'), 'a resource indicator has no fragment');

export const roleName = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a role is 1-32 lower-case letters, digits, - and _, starting with a letter');
const scopeName = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes');

/** How some of a resource's scopes are elevated: never standing, activated for a while with a reason (issue 16). */
export const elevationPolicySchema = z.object({
  scopes: z.array(scopeName).min(1),
  /** Longest elevation a user may pick. */
  maxDurationSeconds: seconds.max(8 * 3600, 'must be at most 28800 (8 hours)').default(15 * 60),
  reasonRequired: z.boolean().default(true),
  approval: z.enum(['none', 'one-approver'], { error: 'must be none or one-approver' }).default('one-approver'),
  breakGlass: z.boolean().default(false),
  /** How long a request may wait for an approver before it expires. */
  approvalTimeoutSeconds: seconds.max(24 * 3600, 'must be at most 86400 (24 hours)').default(15 * 60),
});

export const resourceSchema = z.object({
  uri: resourceUri,
  name: z.string().min(1).optional(),
  scopes: z.array(scopeName).min(1),
  /** Granted when an authorization request names no scope (RFC 6749 §3.3); without them such a request is invalid_scope. */
  defaultScopes: z.array(scopeName).optional(),
  /** What each scope lets an application do, in plain words for the consent page: {"notes:write": "Create and change your notes"}. */
  scopeDescriptions: z.record(scopeName, z.string().min(1).max(200)).optional(),
  /** Used for requests that name no resource (ChatGPT Actions send none); at most one. */
  default: z.boolean().default(false),
  accessTokenTtlSeconds: seconds.optional(),
  /** Elevated scopes and their policy; a scope appears in at most one entry. */
  elevation: z.array(elevationPolicySchema).optional(),
  /** Scopes only users with one of the listed roles may grant, e.g. {"notes:admin": ["admin"]}; other scopes anyone may. */
  scopeRoles: z.record(scopeName, z.array(roleName).min(1)).optional(),
  /** Access tokens for this resource carry the user's `roles`. */
  rolesInToken: z.boolean().optional(),
});

/** Static client: RFC 7591 metadata; `client_secret` may be "env:NAME" to read it from the environment. */
export const staticClientSchema = z.looseObject({
  client_id: z.string().min(1),
  client_name: z.string().min(1).optional(),
  client_secret: z.string().min(1).optional(),
  redirect_uris: z.array(z.string()).default([]),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).optional(),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']).optional(),
  scope: z.string().optional(),
  /**
   * `optional` lets this confidential client redeem codes without PKCE, as ChatGPT Actions do.
   * Never for a public client; logged as a warning at start.
   */
  pkce: z.enum(['required', 'optional']).default('required'),
});

/** Sign-in with a company identity provider (OpenID Connect, found by discovery). */
export const upstreamProviderSchema = z.object({
  /** Short name in URLs and account links, e.g. "entra". */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'an id is 1-32 lower-case letters, digits and -'),
  /** Shown on the sign-in page as "Sign in with <name>". */
  name: z.string().min(1).max(60),
  issuer: z.url({ protocol: /^https$/, error: 'must be an https URL (the provider\'s issuer)' }),
  clientId: z.string().min(1),
  /** "env:NAME" reads it from the environment; absent for a public client. */
  clientSecret: z.string().min(1).optional(),
  scopes: z.array(scopeName).default(['openid', 'email', 'profile']),
  /** A first sign-in creates a local account; false: only accounts linked before may sign in. */
  provision: z.boolean().default(false),
  /** When not empty, provisioning needs an email address in one of these domains. */
  allowedEmailDomains: z.array(z.string().toLowerCase().regex(/^[a-z0-9.-]+$/, 'each entry is a domain such as example.com')).default([]),
  requireVerifiedEmail: z.boolean().default(true),
  /** Which upstream claims carry the email address, the display name and the groups. */
  claims: z.object({
    email: z.string().min(1).default('email'),
    name: z.string().min(1).default('name'),
    groups: z.string().min(1).default('groups'),
  }).default({ email: 'email', name: 'name', groups: 'groups' }),
  /** Upstream group -> local role, e.g. {"mcp-admins": "admin"}; refreshed at every sign-in. */
  groupRoles: z.record(z.string().min(1), z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'a role is 1-32 lower-case letters, digits, - and _')).default({}),
});

export const configSchema = z.object({
  nodeEnv: z.enum(['development', 'production', 'test']).default('development'),
  port: port.default(3000),
  host: listenHost.optional(),
  /** pino level; "silent" turns logging off. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Default: pretty at a terminal outside production, JSON lines otherwise. */
  logFormat: z.enum(['json', 'pretty']).optional(),
  issuer: absoluteUrl.optional(),
  dataDir: z.string().min(1).default('./data'),
  /** When set, every instance keeps its state in this Redis instead of DATA_DIR. */
  redisUrl: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0' }).optional(),
  /** Redis behind Sentinel instead: the sentinels to ask for the current primary of REDIS_SENTINEL_NAME. */
  redisSentinels: hostPortList.optional(),
  redisSentinelName: z.string().min(1).default('mymaster'),
  /** Redis Cluster instead: some of its nodes (the client learns the rest). */
  redisClusterNodes: hostPortList.optional(),
  /** Credentials of the Redis servers behind Sentinel or in a Cluster (a REDIS_URL carries its own). */
  redisUsername: z.string().min(1).optional(),
  redisPassword: z.string().min(1).optional(),
  /** The sentinels' own password, when they require one. */
  redisSentinelPassword: z.string().min(1).optional(),
  /** A write is acknowledged only once this many replicas have it (WAIT), so a failover loses none. */
  redisWaitReplicas: wholeNumber.min(0).max(10).default(0),
  /** Prefix of every Redis key, so several deployments can share one Redis. */
  redisPrefix: z.string().min(1).max(100).regex(/^[^\s]+$/, 'must not contain spaces').default('portcullis:'),
  keysDir: z.string().min(1).default('./keys'),
  rsaPrivateKeyPem: z.string().optional(),
  rsaPrivateKeyPath: z.string().min(1).default('/run/secrets/rsa_private_key'),
  /** A rotated key is published this long before it signs, so every instance and resource-server cache knows it first. */
  keyActivationDelaySeconds: wholeNumber.min(0).max(24 * 3600).default(60),
  cookieKeys: z.string().optional(),
  /** Cookie keys mounted as a file (Docker/Kubernetes secret), used when COOKIE_KEYS is not set. */
  cookieKeysPath: z.string().min(1).default('/run/secrets/cookie_keys'),
  accessTokenTtlSeconds: seconds.default(3600),
  refreshTokenTtlSeconds: seconds.default(14 * 24 * 3600),
  /** The longest a sign-in lasts however active the user is (absolute timeout). */
  sessionTtlSeconds: seconds.default(12 * 3600),
  demoMcp: z.enum(['on', 'off']).default('on'),
  demoMcpPort: port.default(3001),
  /** The demo's public resource identifier when it runs behind a proxy; default http://localhost:$DEMO_MCP_PORT/mcp. */
  demoMcpResource: resourceUri.optional(),
  /** Without any, the demo notes MCP server (DEMO_MCP_PORT) is the one resource. */
  resources: z.array(resourceSchema).optional(),
  clients: z.array(staticClientSchema).default([]),
  /** Registered (/reg) clients that get no tokens for this many days are deleted, hourly; unset: never. */
  registeredClientMaxIdleDays: wholeNumber.min(1).max(3650).optional(),
  /** Dynamic client registration (RFC 7591) at /reg: open, with an initial access token, or off. */
  registration: z.enum(['open', 'token', 'off']).default('open'),
  registrationRateLimit: wholeNumber.min(1).default(30),
  registrationRateLimitWindowSeconds: seconds.default(3600),
  tokenRateLimitPerAddress: wholeNumber.min(1).default(300),
  tokenRateLimitPerClient: wholeNumber.min(1).default(600),
  tokenRateLimitWindowSeconds: seconds.default(60),
  loginFailureLimitPerAddress: wholeNumber.min(1).default(100),
  loginFailureLimitWindowSeconds: seconds.default(3600),
  loginLockoutThreshold: wholeNumber.min(1).default(5),
  loginLockoutBaseSeconds: seconds.default(60),
  loginLockoutMaxSeconds: seconds.default(900),
  /** Proxies in front whose X-Forwarded-For/-Proto are honoured: false (none), true (one) or a count. */
  trustProxy: z.union([
    z.boolean().transform((value) => (value ? 1 : 0)),
    z.enum(['true', 'false']).transform((value) => (value === 'true' ? 1 : 0)),
    z.coerce.number().int().min(0).max(10),
  ], { error: 'must be true, false or the number of proxies in front (0-10)' }).default(0),
  /** Processes sharing the ports (node:cluster); default: every CPU in production, else 1. */
  workers: wholeNumber.min(1).max(64).optional(),
  /** /metrics on the main port for callers with this bearer token. */
  metricsToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /** /metrics on a separate admin listener instead (METRICS_HOST, default loopback). */
  metricsPort: port.optional(),
  metricsHost: listenHost.default('127.0.0.1'),
  /** The operator console (/admin) on its own listener instead of the main one (ADMIN_HOST, default loopback); the same port as METRICS_PORT shares that listener. */
  adminPort: port.optional(),
  adminHost: listenHost.default('127.0.0.1'),
  /** Addresses or CIDR ranges allowed to read /metrics and to use the console; empty: any (metrics still need the token). */
  adminAllowlist: z.preprocess((value) => typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value, z.array(z.string().refine(
    isAddressOrRange, 'each entry is an IP address or CIDR range such as 10.0.0.0/8 (prefix length at most 32 for IPv4, 128 for IPv6)',
  ))).default([]),
  /** Client ID Metadata Documents: an https URL as client_id, fetched and validated. */
  cimd: onOff.default('on'),
  /** Empty: any public host may serve a client metadata document. */
  cimdAllowedHosts: hostList.default([]),
  cimdMaxBytes: wholeNumber.min(512).max(1024 * 1024).default(5 * 1024),
  cimdCacheMinSeconds: seconds.default(60),
  cimdCacheMaxSeconds: seconds.default(24 * 3600),
  /** Test suites only: outbound fetches may reach loopback fixture servers. Refused in production. */
  outboundAllowLoopback: trueFalse.default(false),
  /** Test suites only (NODE_ENV=test): new password hashes use a small scrypt cost. */
  passwordHashCost: z.enum(['standard', 'test']).default('standard'),
  /** PEM file of extra CA certificates trusted for outbound fetches. */
  outboundCaFile: z.string().min(1).optional(),
  /** The tamper-evident audit log (src/audit): on by default. */
  audit: onOff.default('on'),
  /** Default: DATA_DIR/audit. */
  auditDir: z.string().min(1).optional(),
  /** Checkpoint origin line and signer name; default: the issuer's host and path + /audit. */
  auditOrigin: z.string().regex(/^[^\s+]+$/, 'must be one word without spaces or "+", e.g. auth.example.com/audit').optional(),
  auditSigningKeyPem: z.string().optional(),
  auditSigningKeyPath: z.string().min(1).default('/run/secrets/audit_signing_key'),
  auditSegmentMaxBytes: wholeNumber.min(1024).default(64 * 1024 * 1024),
  auditSegmentMaxRecords: wholeNumber.min(1).default(100_000),
  auditCheckpointRecords: wholeNumber.min(1).default(1000),
  auditCheckpointSeconds: seconds.default(60),
  /** How often the server checks its own audit log (the console shows the result); 0: only when an administrator asks. */
  auditVerifySeconds: wholeNumber.min(0).default(600),
  /** S3 Object Lock shipping of sealed segments and checkpoints; off without a bucket. */
  auditS3Bucket: z.string().min(3).optional(),
  auditS3Prefix: z.string().default('portcullis-audit'),
  auditS3LockMode: z.enum(['GOVERNANCE', 'COMPLIANCE']).default('GOVERNANCE'),
  auditS3RetentionDays: wholeNumber.min(1).default(365),
  /** Break-glass elevations allowed per user in 24 hours, and across all users per hour. */
  breakGlassPerUserPerDay: wholeNumber.min(1).default(1),
  breakGlassPerHour: wholeNumber.min(1).default(5),
  /** Break-glass alerts are POSTed here, signed with ALERT_WEBHOOK_SECRET (HMAC-SHA256 of the body). */
  alertWebhookUrl: absoluteUrl.optional(),
  alertWebhookSecret: z.string().min(16, 'must be at least 16 characters').optional(),
  /** An external PAM system decides elevations instead of local approvers; requests are signed with PAM_SECRET. */
  pamDecisionUrl: absoluteUrl.optional(),
  pamSecret: z.string().min(16, 'must be at least 16 characters').optional(),
  pamTimeoutMs: wholeNumber.min(100).max(30_000).default(3000),
  /** Company sign-in (file only). */
  upstreamProviders: z.array(upstreamProviderSchema).default([]),
  /** off: only company sign-in (needs at least one upstream provider). */
  passwordLogin: onOff.default('on'),
  /** A sign-in not used for this long ends (idle timeout). */
  sessionIdleSeconds: seconds.default(3600),
  /** Who must sign in with a second factor: everyone, none, or a list of roles; default admin,approver in production, else none. */
  secondFactorRequired: z.preprocess((value) => typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value, z.array(z.string().regex(
    /^[a-z][a-z0-9_-]{0,31}$/, 'must be everyone, none, or role names such as admin,approver',
  )).refine((list) => !(list.length > 1 && list.some((entry) => entry === 'everyone' || entry === 'none')), 'everyone and none stand alone')).optional(),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ResourceConfig = z.output<typeof resourceSchema>;
export type ElevationPolicyConfig = z.output<typeof elevationPolicySchema>;
export type StaticClientConfig = z.output<typeof staticClientSchema>;
export type UpstreamProviderConfig = z.output<typeof upstreamProviderSchema>;

/** Environment variable for each scalar setting (file-only settings have none). */
export const ENV_NAMES = {
  nodeEnv: 'NODE_ENV',
  port: 'PORT',
  host: 'HOST',
  logLevel: 'LOG_LEVEL',
  logFormat: 'LOG_FORMAT',
  issuer: 'ISSUER',
  dataDir: 'DATA_DIR',
  redisUrl: 'REDIS_URL',
  redisPrefix: 'REDIS_PREFIX',
  redisSentinels: 'REDIS_SENTINELS',
  redisSentinelName: 'REDIS_SENTINEL_NAME',
  redisClusterNodes: 'REDIS_CLUSTER_NODES',
  redisUsername: 'REDIS_USERNAME',
  redisPassword: 'REDIS_PASSWORD',
  redisSentinelPassword: 'REDIS_SENTINEL_PASSWORD',
  redisWaitReplicas: 'REDIS_WAIT_REPLICAS',
  keysDir: 'KEYS_DIR',
  rsaPrivateKeyPem: 'RSA_PRIVATE_KEY_PEM',
  rsaPrivateKeyPath: 'RSA_PRIVATE_KEY_PATH',
  keyActivationDelaySeconds: 'KEY_ACTIVATION_DELAY_SECONDS',
  cookieKeys: 'COOKIE_KEYS',
  cookieKeysPath: 'COOKIE_KEYS_PATH',
  accessTokenTtlSeconds: 'ACCESS_TOKEN_TTL_SECONDS',
  refreshTokenTtlSeconds: 'REFRESH_TOKEN_TTL_SECONDS',
  sessionTtlSeconds: 'SESSION_TTL_SECONDS',
  demoMcp: 'DEMO_MCP',
  demoMcpPort: 'DEMO_MCP_PORT',
  demoMcpResource: 'DEMO_MCP_RESOURCE',
  registration: 'REGISTRATION',
  registeredClientMaxIdleDays: 'REGISTERED_CLIENT_MAX_IDLE_DAYS',
  registrationRateLimit: 'REGISTRATION_RATE_LIMIT',
  registrationRateLimitWindowSeconds: 'REGISTRATION_RATE_LIMIT_WINDOW_SECONDS',
  tokenRateLimitPerAddress: 'TOKEN_RATE_LIMIT_PER_ADDRESS',
  tokenRateLimitPerClient: 'TOKEN_RATE_LIMIT_PER_CLIENT',
  tokenRateLimitWindowSeconds: 'TOKEN_RATE_LIMIT_WINDOW_SECONDS',
  loginFailureLimitPerAddress: 'LOGIN_FAILURE_LIMIT_PER_ADDRESS',
  loginFailureLimitWindowSeconds: 'LOGIN_FAILURE_LIMIT_WINDOW_SECONDS',
  loginLockoutThreshold: 'LOGIN_LOCKOUT_THRESHOLD',
  loginLockoutBaseSeconds: 'LOGIN_LOCKOUT_BASE_SECONDS',
  loginLockoutMaxSeconds: 'LOGIN_LOCKOUT_MAX_SECONDS',
  trustProxy: 'TRUST_PROXY',
  workers: 'WORKERS',
  metricsToken: 'METRICS_TOKEN',
  metricsPort: 'METRICS_PORT',
  metricsHost: 'METRICS_HOST',
  adminPort: 'ADMIN_PORT',
  adminHost: 'ADMIN_HOST',
  adminAllowlist: 'ADMIN_ALLOWLIST',
  cimd: 'CIMD',
  cimdAllowedHosts: 'CIMD_ALLOWED_HOSTS',
  cimdMaxBytes: 'CIMD_MAX_BYTES',
  cimdCacheMinSeconds: 'CIMD_CACHE_MIN_SECONDS',
  cimdCacheMaxSeconds: 'CIMD_CACHE_MAX_SECONDS',
  outboundAllowLoopback: 'OUTBOUND_ALLOW_LOOPBACK',
  passwordHashCost: 'PASSWORD_HASH_COST',
  outboundCaFile: 'OUTBOUND_CA_FILE',
  audit: 'AUDIT',
  auditDir: 'AUDIT_DIR',
  auditOrigin: 'AUDIT_ORIGIN',
  auditSigningKeyPem: 'AUDIT_SIGNING_KEY_PEM',
  auditSigningKeyPath: 'AUDIT_SIGNING_KEY_PATH',
  auditSegmentMaxBytes: 'AUDIT_SEGMENT_MAX_BYTES',
  auditSegmentMaxRecords: 'AUDIT_SEGMENT_MAX_RECORDS',
  auditCheckpointRecords: 'AUDIT_CHECKPOINT_RECORDS',
  auditCheckpointSeconds: 'AUDIT_CHECKPOINT_SECONDS',
  auditVerifySeconds: 'AUDIT_VERIFY_SECONDS',
  auditS3Bucket: 'AUDIT_S3_BUCKET',
  auditS3Prefix: 'AUDIT_S3_PREFIX',
  auditS3LockMode: 'AUDIT_S3_LOCK_MODE',
  auditS3RetentionDays: 'AUDIT_S3_RETENTION_DAYS',
  breakGlassPerUserPerDay: 'BREAK_GLASS_PER_USER_PER_DAY',
  breakGlassPerHour: 'BREAK_GLASS_PER_HOUR',
  alertWebhookUrl: 'ALERT_WEBHOOK_URL',
  alertWebhookSecret: 'ALERT_WEBHOOK_SECRET',
  pamDecisionUrl: 'PAM_DECISION_URL',
  pamSecret: 'PAM_SECRET',
  pamTimeoutMs: 'PAM_TIMEOUT_MS',
  passwordLogin: 'PASSWORD_LOGIN',
  sessionIdleSeconds: 'SESSION_IDLE_SECONDS',
  secondFactorRequired: 'SECOND_FACTOR_REQUIRED',
} as const satisfies Partial<Record<keyof ParsedConfig, string>>;
