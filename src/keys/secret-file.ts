import { lstat, readFile } from 'node:fs/promises';
import { KeyConfigError, printable } from './errors.ts';

/** The mounted secret's text, or undefined when nothing is at `path`. */
export async function readSecretFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const shown = printable(path);
    if (code === 'ENOENT') {
      // A dangling symlink is a broken mount, not an absent secret: don't silently fall back.
      if (await exists(path)) throw new KeyConfigError('RSA_PRIVATE_KEY_PATH', `${shown} is a symlink to a missing file`);
      return undefined;
    }
    if (code === 'EISDIR') throw new KeyConfigError('RSA_PRIVATE_KEY_PATH', `${shown} is a directory, expected a PEM file`);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new KeyConfigError('RSA_PRIVATE_KEY_PATH', `cannot read ${shown} (permission denied)`);
    }
    throw new KeyConfigError('RSA_PRIVATE_KEY_PATH', `cannot read ${shown} (${code ?? 'unknown error'})`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
