import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/index.ts';

const FILE = 'cookie-keys.json';

export interface CookieKeySources {
  /** COOKIE_KEYS: comma-separated, newest first. */
  cookieKeys?: string | undefined;
  /** COOKIE_KEYS_PATH: a mounted secret with the same list (commas or newlines); used when something is there. */
  cookieKeysPath?: string | undefined;
  keysDir: string;
}

/**
 * Keys that sign oidc-provider's session and interaction cookies. Every instance must share them,
 * so they come from COOKIE_KEYS, else a mounted secret file, else a file kept beside the signing
 * keys, generated once.
 */
export function loadCookieKeys(options: CookieKeySources): string[] {
  if (options.cookieKeys) return keyList(options.cookieKeys, 'COOKIE_KEYS');
  const mounted = options.cookieKeysPath ? readMountedKeys(options.cookieKeysPath) : undefined;
  if (mounted !== undefined) return keyList(mounted, 'COOKIE_KEYS_PATH');
  const path = join(options.keysDir, FILE);
  try {
    const keys: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (Array.isArray(keys) && keys.length > 0 && keys.every((key) => typeof key === 'string' && key.length >= 32)) {
      return keys as string[];
    }
    throw new ConfigError('KEYS_DIR', `${path} is not a list of cookie keys`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError('KEYS_DIR', `cannot read ${path}`);
    }
  }
  const keys = [randomBytes(32).toString('base64url')];
  mkdirSync(options.keysDir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(keys), { mode: 0o600 });
  renameSync(temporary, path);
  return keys;
}

function keyList(text: string, setting: string): string[] {
  const keys = text.split(/[,\n]/).map((key) => key.trim()).filter(Boolean);
  if (keys.length === 0 || keys.some((key) => key.length < 32)) {
    throw new ConfigError(setting, 'each comma-separated key must be at least 32 characters');
  }
  return keys;
}

/** The secret file's text, or undefined when nothing is mounted there. */
function readMountedKeys(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError('COOKIE_KEYS_PATH', `cannot read ${path} (${code ?? 'error'})`);
  }
}
