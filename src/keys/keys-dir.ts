import type { KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { KeyConfigError, printable } from './errors.ts';
import { computeKid } from './jwk.ts';
import { LockTimeoutError, withKeysDirLock } from './lock.ts';
import { readManifest, writeManifest } from './manifest.ts';
import type { KeyInfo } from './manifest.ts';
import { generateRsaPrivateKey, parseRsaPrivateKey, toPkcs8Pem } from './private-key.ts';

export interface LoadedKey {
  info: KeyInfo;
  privateKey: KeyObject;
}

/**
 * The signing and published keys of `dir`; generates the first key (under the lock, so
 * concurrent first starts agree on one key) when the dir holds none.
 */
export async function loadKeysDir(dir: string): Promise<{ keys: LoadedKey[]; generated: boolean }> {
  const existing = await readActiveKeys(dir);
  if (existing) return { keys: existing, generated: false };
  return changeKeysDir(dir, async () => {
    const again = await readActiveKeys(dir);
    if (again) return { keys: again, generated: false };
    return { keys: [await addSigningKey(dir, [])], generated: true };
  });
}

/** Generates a key that becomes the signer; the previous signer stays published. */
export async function rotateKey(keysDir: string): Promise<KeyInfo> {
  return changeKeysDir(keysDir, async () => {
    const manifest = (await readManifest(keysDir)) ?? [];
    return (await addSigningKey(keysDir, manifest)).info;
  });
}

/** Takes a published key out of the JWKS and deletes its PEM; refuses the signing key. */
export async function retireKey(keysDir: string, kid: string): Promise<KeyInfo> {
  const unknown = () => new KeyConfigError('KEYS_DIR', `no key with kid=${printable(kid)} in ${printable(keysDir)}`);
  if ((await readManifest(keysDir)) === undefined) throw unknown();
  return changeKeysDir(keysDir, async () => {
    const manifest = (await readManifest(keysDir)) ?? [];
    const entry = manifest.find((key) => key.kid === kid);
    if (!entry) throw unknown();
    if (entry.status === 'signing') {
      throw new KeyConfigError('KEYS_DIR', `kid=${kid} is the signing key; rotate first, then retire it`);
    }
    if (entry.status !== 'retired') {
      await writeManifest(keysDir, manifest.map((key) => (key.kid === kid ? { ...key, status: 'retired' } : key)));
    }
    // After the manifest, so a crash leaves an unlisted file rather than a listed key without one.
    await rm(pemPath(keysDir, kid), { force: true });
    return { ...entry, status: 'retired' };
  });
}

/** Every key in the manifest, oldest first; empty when the dir has no keys yet. */
export async function listKeys(keysDir: string): Promise<KeyInfo[]> {
  return (await readManifest(keysDir)) ?? [];
}

function pemPath(dir: string, kid: string): string {
  return join(dir, `${kid}.pem`);
}

async function addSigningKey(dir: string, manifest: readonly KeyInfo[]): Promise<LoadedKey> {
  const privateKey = await generateRsaPrivateKey();
  const kid = await computeKid(privateKey);
  const info: KeyInfo = { kid, createdAt: new Date().toISOString(), status: 'signing' };
  // PEM first: the manifest must never list a key whose file is not there yet.
  await writeFileAtomic(pemPath(dir, kid), toPkcs8Pem(privateKey));
  const demoted = manifest.map((key): KeyInfo => (key.status === 'signing' ? { ...key, status: 'published' } : key));
  await writeManifest(dir, [...demoted, info]);
  return { info, privateKey };
}

async function readActiveKeys(dir: string): Promise<LoadedKey[] | undefined> {
  // A concurrent `retire` may delete a PEM between our manifest read and file read: retry once.
  for (let attempt = 1; ; attempt++) {
    try {
      const manifest = await readManifest(dir);
      if (!manifest || manifest.length === 0) return undefined;
      const active = manifest.filter((key) => key.status !== 'retired');
      return await Promise.all(active.map(async (info) => ({ info, privateKey: await readKeyFile(dir, info.kid) })));
    } catch (error) {
      if (!(error instanceof MissingKeyFileError) || attempt >= 2) throw error;
    }
  }
}

class MissingKeyFileError extends KeyConfigError {}

async function readKeyFile(dir: string, kid: string): Promise<KeyObject> {
  const path = pemPath(dir, kid);
  const shown = printable(path);
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MissingKeyFileError('KEYS_DIR', `${shown} is missing but keyring.json lists it`);
    throw new KeyConfigError('KEYS_DIR', `cannot read ${shown} (${code ?? 'unknown error'})`);
  }
  const key = parseRsaPrivateKey(pem, 'KEYS_DIR', shown);
  if ((await computeKid(key)) !== kid) {
    throw new KeyConfigError('KEYS_DIR', `${shown} holds a different key than its name (kid) says`);
  }
  return key;
}

/** Creates the dir if needed and runs `fn` under its lock, reporting file-system failures as KEYS_DIR errors. */
async function changeKeysDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const shown = printable(dir);
  try {
    if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) await chmod(dir, 0o700);
    return await withKeysDirLock(dir, fn);
  } catch (error) {
    if (error instanceof KeyConfigError) throw error;
    if (error instanceof LockTimeoutError) {
      throw new KeyConfigError('KEYS_DIR', `${shown}/keyring.lock is held by another process; remove it if none is running`);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new KeyConfigError('KEYS_DIR', `${shown} is not a directory`);
    if (typeof code === 'string') throw new KeyConfigError('KEYS_DIR', `cannot write to ${shown} (${code})`);
    throw error;
  }
}
