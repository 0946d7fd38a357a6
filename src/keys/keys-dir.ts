import type { KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { KeyConfigError, printable } from './errors.ts';
import { computeKid } from './jwk.ts';
import { LockTimeoutError, withKeysDirLock } from './lock.ts';
import { KeyChangeRefusedError, withNextKey, withRetiredKey } from './changes.ts';
import { readManifest, writeManifest } from './manifest.ts';
import { keysAt } from './schedule.ts';
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
  // Under the lock a concurrent first start may have won: then its key is used and ours dropped.
  const first = await generateKey();
  const keys = await changeManifest(dir, (current, now) => (current.length > 0 ? current : withNextKey([], first.kid, now, now, 'KEYS_DIR')), first);
  const generated = keys.length === 1 && keys[0]!.kid === first.kid;
  if (generated) return { keys: [{ info: keys[0]!, privateKey: first.privateKey }], generated };
  return { keys: (await readActiveKeys(dir)) ?? [], generated };
}

/** Generates a key, published now, that signs from `delaySeconds` on (0: at once); the previous signer stays published. */
export async function rotateKey(keysDir: string, delaySeconds = 0): Promise<KeyInfo> {
  const added = await generateKey();
  const keys = await changeManifest(keysDir, (current, now) => withNextKey(current, added.kid, now, new Date(now.getTime() + delaySeconds * 1000), 'KEYS_DIR'), added);
  return keys.find((key) => key.kid === added.kid)!;
}

/** Takes a published key out of the JWKS and deletes its PEM; refuses the signing key. */
export async function retireKey(keysDir: string, kid: string): Promise<KeyInfo> {
  const where = { setting: 'KEYS_DIR' as const, name: printable(keysDir) };
  if ((await readManifest(keysDir)) === undefined) throw new KeyChangeRefusedError('KEYS_DIR', 'unknown', `no key with kid=${printable(kid)} in ${where.name}`);
  const keys = await changeManifest(keysDir, (current) => withRetiredKey(current, kid, where));
  return keys.find((key) => key.kid === kid)!;
}

/**
 * Applies `change` to the manifest as it stands now (due rotations done), under the dir's lock.
 * A new key's PEM is written before the manifest lists it; retired keys' PEMs are deleted after.
 */
export async function changeManifest(
  dir: string, change: (keys: KeyInfo[], now: Date) => KeyInfo[], added?: { kid: string; privateKey: KeyObject },
): Promise<KeyInfo[]> {
  return changeKeysDir(dir, async () => {
    const now = new Date();
    const keys = keysAt(change(keysAt((await readManifest(dir)) ?? [], now), now), now);
    if (added && keys.some((key) => key.kid === added.kid)) await writeFileAtomic(pemPath(dir, added.kid), toPkcs8Pem(added.privateKey));
    await writeManifest(dir, keys);
    for (const key of keys.filter((candidate) => candidate.status === 'retired')) await rm(pemPath(dir, key.kid), { force: true });
    return keys;
  });
}

export async function generateKey(): Promise<{ kid: string; privateKey: KeyObject }> {
  const privateKey = await generateRsaPrivateKey();
  return { kid: await computeKid(privateKey), privateKey };
}

/** Every key in the manifest as it stands now, oldest first; empty when the dir has no keys yet. */
export async function listKeys(keysDir: string): Promise<KeyInfo[]> {
  return keysAt((await readManifest(keysDir)) ?? [], new Date());
}

function pemPath(dir: string, kid: string): string {
  return join(dir, `${kid}.pem`);
}

async function readActiveKeys(dir: string): Promise<LoadedKey[] | undefined> {
  // A concurrent `retire` may delete a PEM between our manifest read and file read: retry once.
  for (let attempt = 1; ; attempt++) {
    try {
      const manifest = await readManifest(dir);
      if (!manifest || manifest.length === 0) return undefined;
      const active = keysAt(manifest, new Date()).filter((key) => key.status !== 'retired');
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
