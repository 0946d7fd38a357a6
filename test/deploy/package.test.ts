import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../support/processes.ts';

const run = promisify(execFile);

const manifest = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(await readFile(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { name?: string; hasInstallScript?: boolean; engines?: { node?: string } }>;
};

describe('package.json for npm ci', () => {
  it('decides on every install script in the lockfile, so npm neither skips nor asks about one', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path, entry]) => entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    assert.ok(withScripts.includes('node'), 'the node runtime package installs its binary in a script');
    for (const name of withScripts) assert.equal(typeof manifest.allowScripts?.[name], 'boolean', `allowScripts decides on ${name}`);
    assert.deepEqual(Object.keys(manifest.allowScripts ?? {}).filter((name) => !withScripts.includes(name)), [], 'no stale entries');
  });

  it("brings Node 24 as a dependency, and asks of the machine's own Node only what npm itself needs", async () => {
    assert.match(manifest.dependencies.node ?? '', /^\^24\./);
    assert.equal(lock.packages['']?.engines?.node, manifest.engines.node, 'the lockfile agrees');
    // A narrower range than npm's own would make npm ci warn on a machine's Node that runs npm fine.
    const npmRoot = (await run('npm', ['root', '-g'])).stdout.trim();
    const npm = JSON.parse(await readFile(join(npmRoot, 'npm', 'package.json'), 'utf8')) as { engines: { node: string } };
    assert.equal(manifest.engines.node, npm.engines.node);
  });
});
