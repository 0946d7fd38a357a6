import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { secondFactorRule } from '../../src/authorization-server/accounts/second-factor-policy.ts';

const example = fileURLToPath(new URL('../../examples/chatgpt-action.config.json', import.meta.url));

describe('configuration', () => {
  it('defaults to http://localhost:3000 with the demo notes resource and no clients or users', () => {
    const config = loadConfig({});
    assert.equal(config.issuer, 'http://localhost:3000');
    assert.equal(config.port, 3000);
    assert.deepEqual(config.resources.map((resource) => resource.uri), ['http://localhost:3001/mcp']);
    assert.deepEqual(config.clients, []);
  });

  it('derives the issuer from PORT and lets ISSUER override it', () => {
    assert.equal(loadConfig({ PORT: '4000' }).issuer, 'http://localhost:4000');
    assert.equal(loadConfig({ PORT: '4000', ISSUER: 'https://auth.example.com/' }).issuer, 'https://auth.example.com');
  });

  it('loads the documented ChatGPT Action example, reading the secret from the named variable', () => {
    const secret = 'an-action-secret-of-at-least-32-characters';
    const config = loadConfig({ CONFIG_FILE: example, CHATGPT_ACTION_CLIENT_SECRET: secret });
    const action = config.clients.find((client) => client.client_id === 'chatgpt-action');
    assert.equal(action?.client_secret, secret);
    assert.equal(action?.pkce, 'optional', 'ChatGPT Actions send no code_verifier');
    assert.equal(config.resources.find((resource) => resource.default)?.uri, 'https://api.example.com/');
  });

  it('names the missing variable when a client secret refers to an unset one', () => {
    assert.throws(() => loadConfig({ CONFIG_FILE: example }), (error: ConfigError) =>
      error.setting === 'clients[0].client_secret' && /CHATGPT_ACTION_CLIENT_SECRET/.test(error.message));
  });

  it('stops on a static client secret shorter than 32 characters, naming the client', () => {
    assert.throws(() => loadConfig({ CONFIG_FILE: example, CHATGPT_ACTION_CLIENT_SECRET: 's3cret-value' }), (error: ConfigError) =>
      error.setting === 'clients[0].client_secret' && /client chatgpt-action must be at least 32 characters/.test(error.message) && !error.message.includes('s3cret-value'));
  });

  it('lets only a confidential static client skip PKCE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ clients: [{ client_id: 'cli', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/cb'], pkce: 'optional' }] }));
      assert.throws(() => loadConfig({ CONFIG_FILE: file }), (error: ConfigError) =>
        error.setting === 'clients[0].pkce' && /client cli is public/.test(error.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names a resource\'s default scope that the resource does not define', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ resources: [{ uri: 'https://mcp.example.com/mcp', scopes: ['notes:read'], defaultScopes: ['notes:write'] }] }));
      assert.throws(() => loadConfig({ CONFIG_FILE: file }), (error: ConfigError) =>
        error.setting === `${file}: resources.0.defaultScopes` && /notes:write is not one of the resource's scopes/.test(error.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows the rejected value of a plain setting', () => {
    assert.throws(() => loadConfig({ ACCESS_TOKEN_TTL_SECONDS: 'soon' }), /ACCESS_TOKEN_TTL_SECONDS: .*\(got "soon"\)$/);
  });

  it('onboards MCP clients by default: open registration, client metadata documents from any public host, loopback closed', () => {
    const config = loadConfig({});
    assert.equal(config.registration, 'open');
    assert.equal(config.cimd, 'on');
    assert.deepEqual(config.cimdAllowedHosts, []);
    assert.equal(config.cimdMaxBytes, 5120);
    assert.equal(config.outboundAllowLoopback, false);
  });

  it('reads CIMD_ALLOWED_HOSTS as a comma- or space-separated list, and names it for a bad entry', () => {
    assert.deepEqual(loadConfig({ CIMD_ALLOWED_HOSTS: 'ChatGPT.com, *.example.com  other.example' }).cimdAllowedHosts, ['chatgpt.com', '*.example.com', 'other.example']);
    assert.throws(() => loadConfig({ CIMD_ALLOWED_HOSTS: 'chatgpt.com, https://evil.example/' }), (error: ConfigError) => error.setting === 'CIMD_ALLOWED_HOSTS');
  });

  it('names REGISTRATION when it is not open, token or off', () => {
    assert.throws(() => loadConfig({ REGISTRATION: 'anyone' }), /REGISTRATION: .*"open"\|"token"\|"off" \(got "anyone"\)$/);
  });

  it('keeps registered clients however long they go unused unless REGISTERED_CLIENT_MAX_IDLE_DAYS says, and names it for a bad value', () => {
    assert.equal(loadConfig({}).registeredClientMaxIdleDays, undefined);
    assert.equal(loadConfig({ REGISTERED_CLIENT_MAX_IDLE_DAYS: '90' }).registeredClientMaxIdleDays, 90);
    for (const value of ['0', 'soon', '4000']) assert.throws(() => loadConfig({ REGISTERED_CLIENT_MAX_IDLE_DAYS: value }), /^ConfigError: REGISTERED_CLIENT_MAX_IDLE_DAYS: /);
  });

  it('keeps state in DATA_DIR unless REDIS_URL is set, with portcullis: as the default Redis prefix', () => {
    assert.equal(loadConfig({}).redisUrl, undefined);
    assert.equal(loadConfig({}).redisPrefix, 'portcullis:');
    const config = loadConfig({ REDIS_URL: 'rediss://default:pw@redis.example:6380/2', REDIS_PREFIX: 'tenant-a:' });
    assert.equal(config.redisUrl, 'rediss://default:pw@redis.example:6380/2');
    assert.equal(config.redisPrefix, 'tenant-a:');
  });

  it('trusts no proxy by default; TRUST_PROXY takes true, false or a count of proxies', () => {
    assert.equal(loadConfig({}).trustProxy, 0);
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, 1);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.throws(() => loadConfig({ TRUST_PROXY: 'yes' }), /TRUST_PROXY: must be true, false or the number of proxies/);
  });

  it('runs one process in development and one per CPU in production unless WORKERS says otherwise', () => {
    assert.equal(loadConfig({}).workers, 1);
    assert.equal(loadConfig({ NODE_ENV: 'production', ISSUER: 'https://auth.example.com' }).workers, availableParallelism());
    assert.equal(loadConfig({ WORKERS: '3' }).workers, 3);
    assert.throws(() => loadConfig({ WORKERS: '0' }), /^.*WORKERS: /);
  });

  it('refuses OUTBOUND_ALLOW_LOOPBACK in production', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', ISSUER: 'https://auth.example.com', OUTBOUND_ALLOW_LOOPBACK: 'true' }),
      (error: ConfigError) => error.setting === 'OUTBOUND_ALLOW_LOOPBACK' && /production/.test(error.message));
    assert.equal(loadConfig({ OUTBOUND_ALLOW_LOOPBACK: 'true' }).outboundAllowLoopback, true);
  });

  it('allows the small password-hash cost only when NODE_ENV=test', () => {
    for (const NODE_ENV of ['production', 'development']) {
      assert.throws(() => loadConfig({ NODE_ENV, ISSUER: 'https://auth.example.com', PASSWORD_HASH_COST: 'test' }),
        (error: ConfigError) => error.setting === 'PASSWORD_HASH_COST' && /NODE_ENV=test/.test(error.message));
    }
    assert.equal(loadConfig({ NODE_ENV: 'test', PASSWORD_HASH_COST: 'test' }).passwordHashCost, 'test');
    assert.equal(loadConfig({}).passwordHashCost, 'standard');
  });

  it('names OUTBOUND_CA_FILE when it cannot be read or holds no certificate, and CIMD cache bounds that cross', () => {
    assert.throws(() => loadConfig({ OUTBOUND_CA_FILE: '/nonexistent/ca.pem' }), (error: ConfigError) => error.setting === 'OUTBOUND_CA_FILE' && /ENOENT/.test(error.message));
    assert.throws(() => loadConfig({ OUTBOUND_CA_FILE: example }), (error: ConfigError) => error.setting === 'OUTBOUND_CA_FILE' && /no PEM certificate/.test(error.message));
    assert.throws(() => loadConfig({ CIMD_CACHE_MIN_SECONDS: '600', CIMD_CACHE_MAX_SECONDS: '60' }), (error: ConfigError) => error.setting === 'CIMD_CACHE_MIN_SECONDS');
  });
  it('registers the demo MCP server under DEMO_MCP_RESOURCE when it runs behind a proxy', () => {
    const config = loadConfig({ DEMO_MCP_RESOURCE: 'https://portcullis.example/mcp' });
    assert.equal(config.demoMcpResource, 'https://portcullis.example/mcp');
    assert.deepEqual(config.resources.map((resource) => resource.uri), ['https://portcullis.example/mcp']);
    assert.throws(() => loadConfig({ DEMO_MCP_RESOURCE: 'https://portcullis.example/mcp#notes' }), (error: ConfigError) => error.setting === 'DEMO_MCP_RESOURCE');
  });

  it('keeps the audit log in DATA_DIR/audit under the issuer\'s origin, and names a bad audit setting', () => {
    const config = loadConfig({ DATA_DIR: '/var/lib/portcullis', ISSUER: 'https://auth.example.com/tenant' });
    assert.equal(config.audit, 'on');
    assert.equal(config.auditDir, '/var/lib/portcullis/audit');
    assert.equal(config.auditOrigin, 'auth.example.com/tenant/audit');
    assert.equal(config.auditS3RetentionDays, 365);
    assert.throws(() => loadConfig({ AUDIT_S3_LOCK_MODE: 'LEGAL_HOLD' }), (error: ConfigError) => error.setting === 'AUDIT_S3_LOCK_MODE');
    assert.throws(() => loadConfig({ AUDIT_SIGNING_KEY_PEM: 'x', AUDIT_ORIGIN: 'has space' }), (error: ConfigError) => error.setting === 'AUDIT_ORIGIN');
  });

  it('logs at info by default and names LOG_LEVEL or LOG_FORMAT when they are not one of their words', () => {
    assert.equal(loadConfig({}).logLevel, 'info');
    assert.equal(loadConfig({}).logFormat, undefined);
    assert.equal(loadConfig({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }).logFormat, 'json');
    assert.throws(() => loadConfig({ LOG_LEVEL: 'verbose' }), /^ConfigError: LOG_LEVEL: .*"debug".*\(got "verbose"\)$/);
    assert.throws(() => loadConfig({ LOG_FORMAT: 'xml' }), (error: ConfigError) => error.setting === 'LOG_FORMAT' && /"pretty"/.test(error.message));
  });

  it('takes an IP address or a host name for HOST and METRICS_HOST, and names the setting otherwise', () => {
    for (const host of ['0.0.0.0', '::', '::1', 'localhost', 'auth-1.internal.example']) assert.equal(loadConfig({ HOST: host }).host, host);
    for (const host of ['999.1.1.1', 'not_a_host!', 'http://localhost', 'localhost:3000']) {
      assert.throws(() => loadConfig({ HOST: host }), (error: ConfigError) => error.setting === 'HOST', host);
    }
    assert.throws(() => loadConfig({ METRICS_HOST: '127.0.0.1:9090' }), (error: ConfigError) => error.setting === 'METRICS_HOST');
  });

  it('names ADMIN_ALLOWLIST for a prefix length too long for the address family', () => {
    assert.deepEqual(loadConfig({ ADMIN_ALLOWLIST: '10.0.0.0/8, ::1 2001:db8::/128' }).adminAllowlist, ['10.0.0.0/8', '::1', '2001:db8::/128']);
    for (const entry of ['10.0.0.0/99', '10.0.0.0/33', '2001:db8::/129', '10.0.0.1/8/8', '10.0.0.0/']) {
      assert.throws(() => loadConfig({ ADMIN_ALLOWLIST: entry }), (error: ConfigError) => error.setting === 'ADMIN_ALLOWLIST', entry);
    }
  });

  it('names METRICS_PORT when it is PORT or the demo\'s port, since each listener needs its own', () => {
    assert.throws(() => loadConfig({ PORT: '3999', METRICS_PORT: '3999' }), /^ConfigError: METRICS_PORT: 3999 is already PORT/);
    assert.throws(() => loadConfig({ METRICS_PORT: '3001' }), /^ConfigError: METRICS_PORT: 3001 is already DEMO_MCP_PORT/);
    assert.throws(() => loadConfig({ DEMO_MCP_PORT: '3000' }), /^ConfigError: DEMO_MCP_PORT: 3000 is already PORT/);
    assert.equal(loadConfig({ METRICS_PORT: '3001', DEMO_MCP: 'off' }).metricsPort, 3001);
    assert.equal(loadConfig({ PORT: '0', METRICS_PORT: '0' }).metricsPort, 0);
  });

  it('names ADMIN_PORT when it clashes with another listener, and lets it share METRICS_PORT on the same host with one process', () => {
    assert.throws(() => loadConfig({ PORT: '3999', ADMIN_PORT: '3999' }), /^ConfigError: ADMIN_PORT: 3999 is already PORT/);
    assert.throws(() => loadConfig({ ADMIN_PORT: 'console' }), (error: ConfigError) => error.setting === 'ADMIN_PORT');
    assert.throws(() => loadConfig({ METRICS_PORT: '9100', ADMIN_PORT: '9100', ADMIN_HOST: '0.0.0.0' }), /^ConfigError: ADMIN_HOST: must equal METRICS_HOST/);
    assert.throws(() => loadConfig({ METRICS_PORT: '9100', ADMIN_PORT: '9100', WORKERS: '2' }), /^ConfigError: ADMIN_PORT: must differ from METRICS_PORT when WORKERS/);
    const shared = loadConfig({ METRICS_PORT: '9100', ADMIN_PORT: '9100' });
    assert.deepEqual([shared.adminPort, shared.adminHost], [9100, '127.0.0.1']);
  });

  it('never shows the rejected METRICS_TOKEN', () => {
    assert.throws(() => loadConfig({ METRICS_TOKEN: 'short-secret' }), (error: ConfigError) =>
      error.setting === 'METRICS_TOKEN' && !error.message.includes('short-secret'));
  });

  it('reaches Redis one way: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES, as host:port lists', () => {
    const sentinel = loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379, sentinel-2:26379 [::1]:26380', REDIS_PASSWORD: 'pw', REDIS_WAIT_REPLICAS: '1' });
    assert.deepEqual(sentinel.redisSentinels, ['10.0.0.1:26379', 'sentinel-2:26379', '[::1]:26380']);
    assert.equal(sentinel.redisSentinelName, 'mymaster');
    assert.equal(sentinel.redisWaitReplicas, 1);
    assert.deepEqual(loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:6379,redis-2:6379' }).redisClusterNodes, ['redis-1:6379', 'redis-2:6379']);
    assert.equal(loadConfig({}).redisWaitReplicas, 0);
    assert.throws(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: 'redis-1:6379' }), /^ConfigError: REDIS_CLUSTER_NODES: set only one of REDIS_URL and REDIS_CLUSTER_NODES$/);
    assert.throws(() => loadConfig({ REDIS_SENTINELS: 'sentinel-1' }), (error: ConfigError) => error.setting === 'REDIS_SENTINELS' && /host:port/.test(error.message));
    assert.throws(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PASSWORD: 'pw' }), (error: ConfigError) => error.setting === 'REDIS_PASSWORD' && /in the URL/.test(error.message));
  });

  it('makes the demo notes:admin elevated, approved by one approver, with break-glass allowed', () => {
    const [demo] = loadConfig({}).resources;
    assert.deepEqual(demo?.elevation, [{ scopes: ['notes:admin'], maxDurationSeconds: 900, reasonRequired: true, approval: 'one-approver', breakGlass: true, approvalTimeoutSeconds: 900 }]);
  });

  it('stops on an elevation policy that is not valid, naming the resource and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
    const withElevation = (elevation: unknown) => {
      const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, JSON.stringify({ resources: [{ uri: 'https://mcp.example.com/mcp', scopes: ['a:read', 'a:admin'], elevation }] }));
      return () => loadConfig({ CONFIG_FILE: file });
    };
    try {
      assert.throws(withElevation([{ scopes: ['a:root'] }]), (error: ConfigError) =>
        error.setting === 'resources[https://mcp.example.com/mcp].elevation[0].scopes' && /a:root is not one of the resource's scopes/.test(error.message));
      assert.throws(withElevation([{ scopes: ['a:admin'] }, { scopes: ['a:admin'] }]), /elevated by two entries/);
      assert.throws(withElevation([{ scopes: ['a:admin'], maxDurationSeconds: 30_000 }]), (error: ConfigError) =>
        /resources\.0\.elevation\.0\.maxDurationSeconds \(resource https:\/\/mcp\.example\.com\/mcp\)/.test(error.setting) && /at most 28800/.test(error.message));
      assert.throws(withElevation([{ scopes: ['a:admin'], approval: 'two-approvers' }]), /must be none or one-approver/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requires ALERT_WEBHOOK_SECRET with ALERT_WEBHOOK_URL and PAM_SECRET with PAM_DECISION_URL', () => {
    assert.throws(() => loadConfig({ ALERT_WEBHOOK_URL: 'https://alerts.example.com/hook' }), (error: ConfigError) => error.setting === 'ALERT_WEBHOOK_SECRET');
    assert.throws(() => loadConfig({ PAM_DECISION_URL: 'https://pam.example.com/decide' }), (error: ConfigError) => error.setting === 'PAM_SECRET');
  });

  it('names a scope role rule for a scope the resource lacks, or a malformed role', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ resources: [{ uri: 'https://api.example.com/', scopes: ['api:read'], scopeRoles: { 'api:write': ['admin'] } }] }));
      assert.throws(() => loadConfig({ CONFIG_FILE: file }), (error: ConfigError) =>
        error.setting === `${file}: resources.0.scopeRoles` && /api:write is not one of the resource's scopes/.test(error.message));
      await writeFile(file, JSON.stringify({ resources: [{ uri: 'https://api.example.com/', scopes: ['api:read'], scopeRoles: { 'api:read': ['Admins'] } }] }));
      assert.throws(() => loadConfig({ CONFIG_FILE: file }), (error: ConfigError) => /resources\.0\.scopeRoles\.api:read\.0/.test(error.setting) && /lower-case/.test(error.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('asks admins and approvers for a second factor in production by default, and reads SECOND_FACTOR_REQUIRED', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://auth.example.com' };
    assert.deepEqual(secondFactorRule(loadConfig(production)), { kind: 'roles', roles: ['admin', 'approver'] });
    assert.deepEqual(secondFactorRule(loadConfig({})), { kind: 'roles', roles: [] });
    assert.deepEqual(secondFactorRule(loadConfig({ SECOND_FACTOR_REQUIRED: 'everyone' })), { kind: 'everyone' });
    assert.deepEqual(secondFactorRule(loadConfig({ ...production, SECOND_FACTOR_REQUIRED: 'none' })), { kind: 'roles', roles: [] });
    assert.deepEqual(secondFactorRule(loadConfig({ SECOND_FACTOR_REQUIRED: 'admin, break-glass' })), { kind: 'roles', roles: ['admin', 'break-glass'] });
    assert.throws(() => loadConfig({ SECOND_FACTOR_REQUIRED: 'everyone,admin' }), (error: ConfigError) => error.setting === 'SECOND_FACTOR_REQUIRED');
    assert.throws(() => loadConfig({ SECOND_FACTOR_REQUIRED: 'Admins' }), (error: ConfigError) => error.setting === 'SECOND_FACTOR_REQUIRED');
  });
});

