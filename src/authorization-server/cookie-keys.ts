import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/index.ts';

const FILE = 'cookie-keys.json';

/**
 * Keys that sign oidc-provider's session and interaction cookies. Every instance must share them,
 * so they come from COOKIE_KEYS (comma-separated, newest first) or a file kept beside the
 * signing keys, generated once.
 */
export function loadCookieKeys(options: { cookieKeys?: string; keysDir: string }): string[] {
  if (options.cookieKeys) {
    const keys = options.cookieKeys.split(',').map((key) => key.trim()).filter(Boolean);
    if (keys.length === 0 || keys.some((key) => key.length < 32)) {
      throw new ConfigError('COOKIE_KEYS', 'each comma-separated key must be at least 32 characters');
    }
    return keys;
  }
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
