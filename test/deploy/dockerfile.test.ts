import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ENV_NAMES } from '../../src/config/schema.ts';
import { loadConfig } from '../../src/config/index.ts';
import { PROJECT_ROOT } from '../support/processes.ts';
import { execForm, keyValues, parseDockerfile, resolveImage, type Instruction } from './dockerfile.ts';

const dockerfile = parseDockerfile(await readFile(join(PROJECT_ROOT, 'Dockerfile'), 'utf8'));
const runtime = dockerfile.stages.at(-1)!;
const packageJson = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const dockerignore = (await readFile(join(PROJECT_ROOT, '.dockerignore'), 'utf8')).split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));

const all = (keyword: string, instructions: Instruction[] = dockerfile.stages.flatMap((stage) => stage.instructions)) =>
  instructions.filter((instruction) => instruction.keyword === keyword);
const runtimeEnv = new Map(all('ENV', runtime.instructions).flatMap((instruction) => [...keyValues(instruction.args)]));

/** Bare package names imported for their values (not `import type`) by the code the image runs. */
async function runtimeImports(): Promise<Set<string>> {
  const packages = new Set<string>();
  for (const dir of ['src', 'examples']) {
    const entries = await readdir(join(PROJECT_ROOT, dir), { withFileTypes: true, recursive: true });
    for (const entry of entries.filter((file) => file.isFile() && file.name.endsWith('.ts'))) {
      const text = await readFile(join(entry.parentPath, entry.name), 'utf8');
      for (const match of text.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?'([^'.][^']*)'/gm)) {
        const specifier = match[1]!;
        if (specifier.startsWith('node:')) continue;
        packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
      }
    }
  }
  return packages;
}

describe('the Dockerfile', () => {
  it('builds in stages from a slim Node.js LTS image new enough to run TypeScript directly', () => {
    assert.ok(dockerfile.stages.length >= 2, 'multi-stage');
    for (const stage of dockerfile.stages) {
      const image = resolveImage(dockerfile, stage);
      const match = /^node:(\d+)[\w.-]*-slim$/.exec(image);
      assert.ok(match, `${image} is a slim node image`);
      assert.ok(Number(match[1]) >= 24 || Number(match[1]) === 22, `${image}: Node 22.18+ or 24+ (type stripping)`);
      assert.equal(Number(match[1]) % 2, 0, `${image} is an LTS line`);
    }
    const copiesDependencies = all('COPY', runtime.instructions).some((copy) => /--from=\S+/.test(copy.args) && /node_modules/.test(copy.args));
    assert.ok(copiesDependencies, 'the runtime stage takes node_modules from the build stage');
  });

  it('installs production dependencies only, and the code the image runs imports nothing else', async () => {
    const installs = all('RUN').filter((run) => /\bnpm (ci|install|i)\b/.test(run.args));
    assert.ok(installs.length > 0);
    for (const install of installs) {
      assert.match(install.args, /\bnpm ci\b/, 'a locked install');
      assert.match(install.args, /--omit=dev\b/);
    }
    // The install runs with --ignore-scripts: only the `node` runtime package may need its script.
    const lock = JSON.parse(await readFile(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }> };
    const scripted = Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript && !entry.dev).map(([path]) => path);
    assert.deepEqual(scripted, ['node_modules/node'], 'production dependencies with install scripts');
    const imported = await runtimeImports();
    assert.ok(imported.has('oidc-provider') && imported.has('@modelcontextprotocol/sdk'), 'the scan finds the imports');
    const missing = [...imported].filter((name) => !(name in packageJson.dependencies));
    assert.deepEqual(missing, [], 'imported by src/ or examples/ but not a production dependency');
  });

  it("runs src/main.ts with the image's own node, as a non-root user", () => {
    const user = all('USER', runtime.instructions).at(-1)?.args;
    assert.ok(user, 'the runtime stage sets USER');
    assert.doesNotMatch(user, /^(root|0)(:|$)/);
    assert.deepEqual(execForm(all('CMD', runtime.instructions).at(-1)?.args ?? ''), ['node', 'src/main.ts']);
    assert.equal(all('ENTRYPOINT', runtime.instructions).length, 0, 'no wrapper between the signal and the server');
  });

  it('keeps state in the DATA_DIR and KEYS_DIR volumes, owned by that user, so the root filesystem can be read-only', () => {
    const dataDir = runtimeEnv.get(ENV_NAMES.dataDir) ?? '';
    const keysDir = runtimeEnv.get(ENV_NAMES.keysDir) ?? '';
    assert.ok(dataDir.startsWith('/') && keysDir.startsWith('/'), 'absolute DATA_DIR and KEYS_DIR');
    const volumes = all('VOLUME', runtime.instructions).flatMap((volume) => execForm(volume.args) ?? volume.args.split(/\s+/));
    assert.ok(volumes.includes(dataDir) && volumes.includes(keysDir), `VOLUME lists ${dataDir} and ${keysDir}`);
    const user = all('USER', runtime.instructions).at(-1)!.args.split(':')[0]!;
    const chown = all('RUN', runtime.instructions).find((run) => /\bchown\b/.test(run.args));
    assert.ok(chown && chown.args.includes(dataDir) && chown.args.includes(keysDir), 'both directories are given to the user');
    assert.match(chown.args, new RegExp(`chown (${user}|node)(:\\S+)? `));
    assert.equal(loadConfig({}).rsaPrivateKeyPath, '/run/secrets/rsa_private_key', 'the key is read from the mounted secret by default');
  });

  it('sets only real settings in its environment', () => {
    const settings = new Set<string>(Object.values(ENV_NAMES));
    for (const name of runtimeEnv.keys()) assert.ok(settings.has(name), `${name} is a setting of src/config/schema.ts`);
  });

  it('checks health on /healthz with node itself (slim images have no curl)', () => {
    const [healthcheck] = all('HEALTHCHECK', runtime.instructions);
    assert.ok(healthcheck);
    const command = execForm(healthcheck.args.slice(healthcheck.args.indexOf('CMD') + 3).trim());
    assert.ok(command, 'exec form');
    assert.equal(command[0], 'node');
    assert.match(command.join(' '), /fetch\(.*\/healthz/);
    assert.doesNotMatch(healthcheck.args, /\b(curl|wget)\b/);
  });

  it('bakes in no secret: no secret settings, no keys, data or .env in the build context', () => {
    const declared = all('ENV').flatMap((env) => [...keyValues(env.args).keys()]).concat(all('ARG').map((arg) => arg.args.split('=')[0]!));
    for (const name of declared) {
      assert.ok(name !== ENV_NAMES.rsaPrivateKeyPem && name !== ENV_NAMES.cookieKeys, `${name} is not set in the image`);
      assert.doesNotMatch(name, /SECRET|PASSWORD|TOKEN|PRIVATE_KEY_PEM/);
    }
    assert.equal(dockerignore[0], '*', '.dockerignore starts by excluding everything');
    const allowed = dockerignore.filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    for (const entry of allowed) assert.doesNotMatch(entry, /^(keys|data|\.env|node_modules|\.git)\b/, `${entry} may not enter the image`);
    for (const copy of all('COPY').filter((instruction) => !instruction.args.includes('--from='))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) assert.ok(allowed.includes(source.replace(/\/$/, '')), `${source} is let through by .dockerignore`);
    }
  });
});
