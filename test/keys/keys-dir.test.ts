import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify } from 'jose';
import { loadKeyRing } from '../../src/keys/index.ts';
import { assertKeyConfigError, noSecret, pkcs8, rsaKey, tempDir } from './fixtures.ts';

describe('keys dir source', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  test('first load generates one 2048-bit key with private file modes', async () => {
    const keysDir = join(root, 'first', 'keys');
    const ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });

    assert.equal(ring.source, 'generated');
    assert.equal((await stat(keysDir)).mode & 0o777, 0o700);
    const files = (await readdir(keysDir)).sort();
    assert.deepEqual(files, [`${ring.signingKid}.pem`, 'keyring.json'].sort());
    for (const file of files) assert.equal((await stat(join(keysDir, file))).mode & 0o777, 0o600, file);

    const [jwk] = ring.publicJwks().keys;
    assert.equal(Buffer.from(jwk?.n ?? '', 'base64url').length * 8, 2048);
    const manifest = JSON.parse(await readFile(join(keysDir, 'keyring.json'), 'utf8'));
    assert.equal(manifest.keys.length, 1);
    assert.equal(manifest.keys[0].kid, ring.signingKid);
    assert.equal(manifest.keys[0].status, 'signing');
    assert.ok(!Number.isNaN(Date.parse(manifest.keys[0].createdAt)));
  });

  test('a restart keeps the kid, and tokens signed before it still verify', async () => {
    const keysDir = join(root, 'restart');
    const first = await loadKeyRing({ secretPath: noSecret(root), keysDir });
    const [privateJwk] = first.privateJwks().keys;
    assert.ok(privateJwk);
    const jwt = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid })
      .sign(await importJWK(privateJwk, 'RS256'));

    const second = await loadKeyRing({ secretPath: noSecret(root), keysDir });

    assert.equal(second.source, 'keys-dir');
    assert.equal(second.signingKid, first.signingKid);
    assert.equal((await readdir(keysDir)).filter((f) => f.endsWith('.pem')).length, 1);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(second.publicJwks()));
    assert.equal(payload.sub, 'alice');
  });

  test('concurrent first loads in separate processes agree on one key', async () => {
    const keysDir = join(root, 'race');
    const indexUrl = pathToFileURL(join(import.meta.dirname, '../../src/keys/index.ts')).href;
    const script = `
      const { loadKeyRing } = await import(${JSON.stringify(indexUrl)});
      const ring = await loadKeyRing({ secretPath: process.argv[1], keysDir: process.argv[2] });
      process.stdout.write(ring.signingKid);
    `;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, noSecret(root), keysDir]);
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.stderr.on('data', (chunk) => (err += chunk));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
      });

    const kids = await Promise.all([run(), run(), run(), run()]);

    assert.equal(new Set(kids).size, 1, kids.join(' '));
    const files = await readdir(keysDir);
    assert.deepEqual(files.filter((f) => f.endsWith('.pem')), [`${kids[0]}.pem`]);
    assert.ok(!files.includes('keyring.lock'));
  });

  test('a stale lock left by a dead process is broken', async () => {
    const keysDir = join(root, 'stale');
    await mkdir(keysDir, { mode: 0o700 });
    await writeFile(join(keysDir, 'keyring.lock'), '12345\n');
    const old = new Date(Date.now() - 120_000);
    await utimes(join(keysDir, 'keyring.lock'), old, old);

    const ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });

    assert.equal(ring.source, 'generated');
    assert.ok(!(await readdir(keysDir)).includes('keyring.lock'));
  });

  test('a corrupt manifest is refused naming KEYS_DIR', async () => {
    const keysDir = join(root, 'corrupt-manifest');
    await loadKeyRing({ secretPath: noSecret(root), keysDir });
    await writeFile(join(keysDir, 'keyring.json'), '{"version":1,"keys":[{"kid":');

    await assertKeyConfigError(loadKeyRing({ secretPath: noSecret(root), keysDir }), 'KEYS_DIR', /keyring\.json is corrupt/);
  });

  test('a manifest with two signing keys is refused', async () => {
    const keysDir = join(root, 'two-signers');
    const ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });
    const entry = { kid: ring.signingKid, createdAt: new Date(0).toISOString(), status: 'signing' };
    const other = { ...entry, kid: 'A'.repeat(43) };
    await writeFile(join(keysDir, 'keyring.json'), JSON.stringify({ version: 1, keys: [entry, other] }));

    await assertKeyConfigError(loadKeyRing({ secretPath: noSecret(root), keysDir }), 'KEYS_DIR', /exactly one signing key/);
  });

  test('a corrupt key file is refused naming KEYS_DIR', async () => {
    const keysDir = join(root, 'corrupt-pem');
    const ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });
    await writeFile(join(keysDir, `${ring.signingKid}.pem`), '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n');

    await assertKeyConfigError(loadKeyRing({ secretPath: noSecret(root), keysDir }), 'KEYS_DIR', /not a valid RSA private key/);
  });

  test('a key file holding a different key than its kid is refused', async () => {
    const keysDir = join(root, 'swapped-pem');
    const ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });
    await writeFile(join(keysDir, `${ring.signingKid}.pem`), pkcs8(rsaKey()));

    await assertKeyConfigError(loadKeyRing({ secretPath: noSecret(root), keysDir }), 'KEYS_DIR', /different key/);
  });

  test('a missing key file listed in the manifest is refused', async () => {
    const keysDir = join(root, 'missing-pem');
    const ring = await loadKeyRing({ secretPath: noSecret(root), keysDir });
    await rm(join(keysDir, `${ring.signingKid}.pem`));

    await assertKeyConfigError(loadKeyRing({ secretPath: noSecret(root), keysDir }), 'KEYS_DIR', /is missing/);
  });

  test('a keys dir path that is a file is refused', async () => {
    const keysDir = join(root, 'a-file');
    await writeFile(keysDir, 'not a dir');

    await assertKeyConfigError(loadKeyRing({ secretPath: noSecret(root), keysDir }), 'KEYS_DIR', /not a directory/);
  });
});
