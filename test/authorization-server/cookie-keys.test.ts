import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadCookieKeys } from '../../src/authorization-server/cookie-keys.ts';
import { ConfigError } from '../../src/config/index.ts';

const root = await mkdtemp(join(tmpdir(), 'portcullis-cookie-keys-'));
after(() => rm(root, { recursive: true, force: true }));

const newest = 'n'.repeat(40);
const older = 'o'.repeat(40);

describe('cookie keys', () => {
  it('reads a mounted secret with one key per line (or comma-separated), newest first', async () => {
    const cookieKeysPath = join(root, 'cookie_keys');
    await writeFile(cookieKeysPath, `${newest}\n${older}\n`);
    assert.deepEqual(loadCookieKeys({ cookieKeysPath, keysDir: join(root, 'unused') }), [newest, older]);
  });

  it('prefers COOKIE_KEYS over the mounted secret', async () => {
    const cookieKeysPath = join(root, 'cookie_keys_ignored');
    await writeFile(cookieKeysPath, older);
    assert.deepEqual(loadCookieKeys({ cookieKeys: newest, cookieKeysPath, keysDir: join(root, 'unused') }), [newest]);
  });

  it('names COOKIE_KEYS_PATH when the mounted secret holds a short key', async () => {
    const cookieKeysPath = join(root, 'cookie_keys_short');
    await writeFile(cookieKeysPath, 'too-short\n');
    assert.throws(() => loadCookieKeys({ cookieKeysPath, keysDir: join(root, 'unused') }), (error: ConfigError) => error.setting === 'COOKIE_KEYS_PATH');
  });

  it('generates and keeps keys in KEYS_DIR when nothing is mounted', () => {
    const keysDir = join(root, 'keys');
    const options = { cookieKeysPath: join(root, 'absent'), keysDir };
    const generated = loadCookieKeys(options);
    assert.equal(generated.length, 1);
    assert.deepEqual(loadCookieKeys(options), generated);
  });
});
