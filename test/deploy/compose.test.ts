import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { ENV_NAMES } from '../../src/config/schema.ts';
import { PROJECT_ROOT } from '../support/processes.ts';

interface Service {
  build?: unknown;
  image?: string;
  command?: string[];
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  healthcheck?: { test?: string[] };
  volumes?: string[];
}

const compose = parse(await readFile(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
};
const caddyfile = await readFile(join(PROJECT_ROOT, 'deploy/Caddyfile'), 'utf8');
const services = Object.entries(compose.services);
const ourImage = services.filter(([, service]) => service.build !== undefined || service.image === compose.services['portcullis-1']?.image);
const instances = ourImage.filter(([, service]) => service.command === undefined);
const notes = ourImage.find(([, service]) => service.command?.includes('examples/notes-mcp/main.ts'));

/** Read by Node.js itself, not by the application. */
const NODE_RUNTIME_VARIABLES = ['NODE_EXTRA_CA_CERTS'];

/** Compose's `${NAME:-default}` interpolation, with every variable left at its default. */
function withDefaults(value: string): string {
  return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
    assert.notEqual(fallback, undefined, `${name} has a default`);
    return fallback!;
  });
}

describe('docker-compose.yml', () => {
  it('hardens every service: read-only root, no capabilities, no new privileges, a health check', () => {
    assert.ok(services.length >= 5);
    for (const [name, service] of services) {
      assert.equal(service.read_only, true, `${name}: read_only`);
      assert.deepEqual(service.cap_drop, ['ALL'], `${name}: cap_drop`);
      assert.ok(service.security_opt?.includes('no-new-privileges:true'), `${name}: no-new-privileges`);
      assert.ok(service.tmpfs?.some((mount) => mount.startsWith('/tmp')), `${name}: a tmpfs /tmp on the read-only root`);
      assert.ok((service.healthcheck?.test?.length ?? 0) > 1, `${name}: healthcheck`);
      assert.doesNotMatch(JSON.stringify(service.healthcheck), /\bcurl\b/, `${name}: no curl in slim images`);
      if (service.user !== undefined) assert.doesNotMatch(service.user, /^(root|0)(:|$)/, `${name}: user`);
    }
  });

  it('runs two Portcullis instances behind the proxy, sharing Redis, the issuer and the keys (as secrets)', () => {
    assert.equal(instances.length, 2, 'two instances of the image running src/main.ts');
    const config = loadConfig({});
    for (const [name, service] of instances) {
      assert.match(caddyfile, new RegExp(`reverse_proxy[^\\n]*\\b${name}:3000\\b`), `${name} is behind the proxy`);
      assert.equal(service.environment?.REDIS_URL, 'redis://redis:6379/0', `${name}: REDIS_URL`);
      assert.equal(service.environment?.ISSUER, instances[0]![1].environment?.ISSUER, `${name}: the same issuer`);
      assert.deepEqual([...service.secrets ?? []].sort(), ['cookie_keys', 'rsa_private_key'], `${name}: secrets`);
      for (const secret of ['RSA_PRIVATE_KEY_PEM', 'COOKIE_KEYS']) assert.equal(service.environment?.[secret], undefined, `${name}: no ${secret} in the environment`);
    }
    // Compose mounts each secret at /run/secrets/<name>, where the defaults look.
    assert.equal(config.rsaPrivateKeyPath, '/run/secrets/rsa_private_key');
    assert.equal(config.cookieKeysPath, '/run/secrets/cookie_keys');
    assert.deepEqual(Object.keys(compose.secrets).sort(), ['cookie_keys', 'rsa_private_key']);
    for (const secret of Object.values(compose.secrets)) assert.match(secret.file, /^\.\/deploy\/secrets\//, 'secrets live in the git-ignored deploy/secrets/');
    assert.ok(compose.services.redis, 'a redis service');
  });

  it('runs the demo notes MCP server as the registered resource, routed by the proxy', () => {
    assert.ok(notes, 'a service runs examples/notes-mcp/main.ts');
    const [name, service] = notes;
    const resource = withDefaults(service.environment?.DEMO_MCP_RESOURCE ?? '');
    for (const [, instance] of instances) {
      const config = loadConfig(Object.fromEntries(Object.entries(instance.environment ?? {}).map(([key, value]) => [key, withDefaults(value)])));
      assert.deepEqual(config.resources.map((registered) => registered.uri), [resource], 'the instances register the notes resource');
      assert.equal(config.demoMcp, 'off');
    }
    assert.equal(new URL(resource).pathname, '/mcp');
    assert.match(caddyfile, /@notes path \/mcp .*\/\.well-known\/oauth-protected-resource\/mcp/);
    assert.match(caddyfile, new RegExp(`reverse_proxy ${name}:${service.environment?.DEMO_MCP_PORT}\\b`));
  });

  it('gives our services only real settings, each valid for production with the defaults filled in', () => {
    const known = new Set<string>([...Object.values(ENV_NAMES), ...NODE_RUNTIME_VARIABLES]);
    for (const [name, service] of ourImage) {
      const environment = Object.fromEntries(Object.entries(service.environment ?? {}).map(([key, value]) => [key, withDefaults(String(value))]));
      for (const key of Object.keys(environment)) assert.ok(known.has(key), `${name}: ${key} is a setting of src/config/schema.ts`);
      assert.equal(environment.NODE_ENV, 'production', `${name}: production checks on`);
      assert.doesNotThrow(() => loadConfig(environment), `${name}: its environment is a valid configuration`);
    }
  });

  it('gives every service of our image its own named volumes at DATA_DIR and KEYS_DIR, so keys survive down and up', async () => {
    const dockerfile = await readFile(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    const imageDirectory = (name: string) => new RegExp(`\\b${name}=(\\S+)`).exec(dockerfile)?.[1];
    const directories = [imageDirectory('DATA_DIR'), imageDirectory('KEYS_DIR')];
    assert.deepEqual(directories, ['/data', '/keys']);
    const named = new Set(Object.keys(compose.volumes));
    const seen = new Set<string>();
    for (const [name, service] of ourImage) {
      for (const directory of directories) {
        const mount = service.volumes?.find((volume) => volume.split(':')[1] === directory);
        assert.ok(mount, `${name}: a volume at ${directory}`);
        const source = mount.split(':')[0]!;
        assert.ok(named.has(source), `${name}: ${source} is a named volume`);
        assert.ok(!seen.has(source), `${name}: ${source} is its own`);
        seen.add(source);
      }
    }
  });
});

