import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from './support/processes.ts';

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(PROJECT_ROOT, dir), { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => relative(PROJECT_ROOT, join(entry.parentPath, entry.name)));
}

async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(join(PROJECT_ROOT, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((match) => match[1]!);
}

describe('the layout in ARCHITECTURE.md', () => {
  it('keeps the resource-server module and the demo MCP server free of authorization-server imports', async () => {
    const files = [...await sourceFiles('src/resource-server'), ...await sourceFiles('examples')];
    assert.ok(files.length > 10, 'the scan found the module');
    for (const file of files) {
      for (const specifier of await importsOf(file)) {
        assert.doesNotMatch(specifier, /authorization-server|\/cli\/|\/main\.ts$/, `${file} imports ${specifier}`);
      }
    }
  });

  it('starts the demo MCP server through a hook: nothing in src/ imports examples/', async () => {
    for (const file of await sourceFiles('src')) {
      for (const specifier of await importsOf(file)) assert.doesNotMatch(specifier, /examples\//, `${file} imports ${specifier}`);
    }
  });

  it('keeps the lower layers (config, keys, storage, log, http, audit, settings) from importing upward', async () => {
    for (const layer of ['src/config', 'src/keys', 'src/storage', 'src/log', 'src/http', 'src/audit', 'src/settings']) {
      for (const file of await sourceFiles(layer)) {
        for (const specifier of await importsOf(file)) {
          assert.doesNotMatch(specifier, /authorization-server|resource-server|\/cli\/|examples/, `${file} imports ${specifier}`);
        }
      }
    }
  });
});
