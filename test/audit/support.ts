import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { AuditLog, type AuditLogOptions } from '../../src/audit/index.ts';
import { silentLogger } from '../../src/log/index.ts';

export const ORIGIN = 'auth.test.example/audit';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

export async function tempDir(prefix = 'portcullis-audit-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export interface TestLog {
  dir: string;
  key: KeyObject;
  open(options?: Partial<AuditLogOptions>): Promise<AuditLog>;
}

/** A fresh log directory and audit key; `open` opens (or reopens) the log there. */
export async function testLog(defaults: Partial<AuditLogOptions> = {}): Promise<TestLog> {
  const dir = join(await tempDir(), 'audit');
  const { privateKey: key } = generateKeyPairSync('ed25519');
  return { dir, key, open: (options = {}) => AuditLog.open({ dir, origin: ORIGIN, signingKey: key, log: silentLogger(), ...defaults, ...options }) };
}

export function loginEvent(index: number) {
  return { type: 'login.succeeded' as const, subject: `user-${index}`, client: 'client-a' };
}

/** Where a segment's records end: the zeros written ahead of the appends are free space, not records. */
export function dataEnd(bytes: Buffer): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end -= 1;
  return end;
}
