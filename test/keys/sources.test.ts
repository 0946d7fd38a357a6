import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeKeySource, loadKeyRing } from '../../src/keys/index.ts';
import { assertKeyConfigError, noSecret, pkcs1, pkcs8, rsaKey, tempDir } from './fixtures.ts';

describe('env and mounted-file sources', () => {
  const key = rsaKey();
  const otherKey = rsaKey();
  let root: string;
  let cleanup: () => Promise<void>;
  let keysDir: string;
  before(async () => {
    ({ dir: root, cleanup } = await tempDir());
    keysDir = join(root, 'keys');
  });
  after(() => cleanup());

  test('an env PEM in PKCS#8 and in PKCS#1 load as the same single key', async () => {
    const fromPkcs8 = await loadKeyRing({ pem: pkcs8(key), secretPath: noSecret(root), keysDir });
    const fromPkcs1 = await loadKeyRing({ pem: pkcs1(key), secretPath: noSecret(root), keysDir });

    assert.equal(fromPkcs8.source, 'env');
    assert.equal(fromPkcs1.signingKid, fromPkcs8.signingKid);
    assert.equal(fromPkcs8.publicJwks().keys.length, 1);
    assert.equal(fromPkcs8.privateJwks().keys.length, 1);
    assert.equal(describeKeySource(fromPkcs8), `signing key kid=${fromPkcs8.signingKid} from RSA_PRIVATE_KEY_PEM`);
  });

  test('env and file sources never touch the keys dir', async () => {
    await loadKeyRing({ pem: pkcs8(key), secretPath: noSecret(root), keysDir });
    await assert.rejects(readdir(keysDir), { code: 'ENOENT' });
  });

  test('an env PEM with literal \\n escapes is accepted', async () => {
    const oneLine = pkcs8(key).trimEnd().replaceAll('\n', '\\n');
    const ring = await loadKeyRing({ pem: oneLine, secretPath: noSecret(root), keysDir });
    const reference = await loadKeyRing({ pem: pkcs8(key), secretPath: noSecret(root), keysDir });
    assert.equal(ring.signingKid, reference.signingKid);
  });

  test('the mounted secret file is used when there is no env PEM', async () => {
    const secretPath = join(root, 'secret.pem');
    await writeFile(secretPath, pkcs1(key), { mode: 0o600 });

    for (const pem of [undefined, '', '  \n']) {
      const ring = await loadKeyRing({ pem, secretPath, keysDir });
      assert.equal(ring.source, 'file');
      assert.equal(describeKeySource(ring), `signing key kid=${ring.signingKid} from RSA_PRIVATE_KEY_PATH (${secretPath})`);
    }
  });

  test('the env PEM wins over the mounted secret file', async () => {
    const secretPath = join(root, 'other-secret.pem');
    await writeFile(secretPath, pkcs8(otherKey), { mode: 0o600 });
    const fromFile = await loadKeyRing({ secretPath, keysDir });

    const ring = await loadKeyRing({ pem: pkcs8(key), secretPath, keysDir });

    assert.equal(ring.source, 'env');
    assert.notEqual(ring.signingKid, fromFile.signingKid);
  });

  test('a malformed env PEM is refused naming RSA_PRIVATE_KEY_PEM', async () => {
    const truncated = pkcs8(key).slice(0, 200);
    await assertKeyConfigError(
      loadKeyRing({ pem: truncated, secretPath: noSecret(root), keysDir }),
      'RSA_PRIVATE_KEY_PEM',
      /not a valid RSA private key \(expected a PKCS#8 or PKCS#1 PEM\)$/,
    );
  });

  test('a 1024-bit key is refused', async () => {
    const weak = rsaKey(1024);
    await assertKeyConfigError(
      loadKeyRing({ pem: pkcs8(weak), secretPath: noSecret(root), keysDir }),
      'RSA_PRIVATE_KEY_PEM',
      /RSA key is 1024 bits; at least 2048 are required$/,
    );
    const secretPath = join(root, 'weak.pem');
    await writeFile(secretPath, pkcs1(weak));
    await assertKeyConfigError(loadKeyRing({ secretPath, keysDir }), 'RSA_PRIVATE_KEY_PATH', /1024 bits/);
  });

  test('EC and Ed25519 keys are refused', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    await assertKeyConfigError(
      loadKeyRing({ pem: pkcs8(ec), secretPath: noSecret(root), keysDir }),
      'RSA_PRIVATE_KEY_PEM',
      /key type is ec; an RSA key is required/,
    );
    const secretPath = join(root, 'ed25519.pem');
    await writeFile(secretPath, pkcs8(ed));
    await assertKeyConfigError(loadKeyRing({ secretPath, keysDir }), 'RSA_PRIVATE_KEY_PATH', /key type is ed25519/);
  });

  test('an encrypted PEM is refused with a specific message', async () => {
    for (const type of ['pkcs8', 'pkcs1'] as const) {
      const encrypted = key.export({ type, format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
      await assertKeyConfigError(
        loadKeyRing({ pem: encrypted, secretPath: noSecret(root), keysDir }),
        'RSA_PRIVATE_KEY_PEM',
        /RSA private key is encrypted/,
      );
    }
  });

  test('a secret path that is a directory is refused', async () => {
    const secretPath = join(root, 'secret-dir');
    await mkdir(secretPath);
    await assertKeyConfigError(loadKeyRing({ secretPath, keysDir }), 'RSA_PRIVATE_KEY_PATH', /is a directory/);
  });

  test('a secret path that is a dangling symlink is refused rather than skipped', async () => {
    const secretPath = join(root, 'dangling.pem');
    await symlink(join(root, 'nowhere.pem'), secretPath);
    await assertKeyConfigError(loadKeyRing({ secretPath, keysDir }), 'RSA_PRIVATE_KEY_PATH', /missing file/);
  });

  test('an unreadable secret file is refused', { skip: process.getuid?.() === 0 && 'root can read any file' }, async () => {
    const secretPath = join(root, 'unreadable.pem');
    await writeFile(secretPath, pkcs8(key));
    await chmod(secretPath, 0o000);
    await assertKeyConfigError(loadKeyRing({ secretPath, keysDir }), 'RSA_PRIVATE_KEY_PATH', /permission denied/);
  });
});
