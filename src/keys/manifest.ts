import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { KeyConfigError, printable } from './errors.ts';

/** `next`: published, and signs from `activatesAt` on; `signing`: the current signer. */
export type KeyStatus = 'next' | 'signing' | 'published' | 'retired';

export interface KeyInfo {
  kid: string;
  /** ISO 8601 timestamp. */
  createdAt: string;
  status: KeyStatus;
  /** When a `next` key becomes the signer (ISO 8601). */
  activatesAt?: string;
  /** When the key stopped signing (ISO 8601): tokens it signed live at most an access-token lifetime longer. */
  supersededAt?: string;
}

export const MANIFEST_FILE = 'keyring.json';
const MANIFEST_VERSION = 1;
const STATUSES: readonly string[] = ['next', 'signing', 'published', 'retired'] satisfies KeyStatus[];
/** A SHA-256 JWK thumbprint in base64url; also keeps kids safe to use as file names. */
const KID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The manifest's keys in file order (oldest first), or undefined when the dir or file is absent. */
export async function readManifest(dir: string): Promise<KeyInfo[] | undefined> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new KeyConfigError('KEYS_DIR', `${printable(dir)} is not a directory`);
    throw new KeyConfigError('KEYS_DIR', `cannot read ${printable(path)} (${code ?? 'unknown error'})`);
  }
  return parseManifest(text, printable(path));
}

export async function writeManifest(dir: string, keys: readonly KeyInfo[]): Promise<void> {
  const body = { version: MANIFEST_VERSION, keys };
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(body, null, 2)}\n`);
}

export function parseManifest(text: string, where: string): KeyInfo[] {
  const corrupt = (why: string) => new KeyConfigError('KEYS_DIR', `${where} is corrupt: ${why}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw corrupt('not valid JSON');
  }
  if (!isRecord(body) || body.version !== MANIFEST_VERSION || !Array.isArray(body.keys)) {
    throw corrupt(`expected {"version": ${MANIFEST_VERSION}, "keys": [...]}`);
  }
  const keys: KeyInfo[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of body.keys.entries()) {
    if (!isRecord(entry)) throw corrupt(`keys[${index}] is not an object`);
    const { kid, createdAt, status } = entry;
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) throw corrupt(`keys[${index}].kid is not a JWK thumbprint`);
    if (seen.has(kid)) throw corrupt(`kid ${kid} is listed twice`);
    if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) {
      throw corrupt(`keys[${index}].createdAt is not a date`);
    }
    if (typeof status !== 'string' || !STATUSES.includes(status)) {
      throw corrupt(`keys[${index}].status must be next, signing, published or retired`);
    }
    const dates: Pick<KeyInfo, 'activatesAt' | 'supersededAt'> = {};
    for (const field of ['activatesAt', 'supersededAt'] as const) {
      const value = entry[field];
      if (value === undefined) continue;
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw corrupt(`keys[${index}].${field} is not a date`);
      dates[field] = value;
    }
    if (status === 'next' && dates.activatesAt === undefined) throw corrupt(`keys[${index}] is next but has no activatesAt`);
    seen.add(kid);
    keys.push({ kid, createdAt, status: status as KeyStatus, ...dates });
  }
  const signing = keys.filter((key) => key.status === 'signing').length;
  if (keys.length > 0 && signing !== 1) throw corrupt(`expected exactly one signing key, found ${signing}`);
  return keys;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
