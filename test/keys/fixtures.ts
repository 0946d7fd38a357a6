import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyConfigError } from '../../src/keys/index.ts';
import type { KeySetting } from '../../src/keys/index.ts';

export function rsaKey(modulusLength = 2048): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength }).privateKey;
}

export function pkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function pkcs1(key: KeyObject): string {
  return key.export({ type: 'pkcs1', format: 'pem' }).toString();
}

/** A fresh temp dir, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-keys-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A secret path that does not exist, so loading falls through to the keys dir. */
export function noSecret(dir: string): string {
  return join(dir, 'no-such-secret');
}

export async function assertKeyConfigError(promise: Promise<unknown>, setting: KeySetting, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof KeyConfigError, `expected KeyConfigError, got ${String(error)}`);
    assert.equal(error.setting, setting);
    assert.ok(error.message.startsWith(`${setting}: `), error.message);
    assert.doesNotMatch(error.message, /[\r\n]/);
    assert.doesNotMatch(error.message, /PRIVATE KEY|MII/);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}
