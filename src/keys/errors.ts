/** The environment variable an operator has to fix when key loading fails. */
export type KeySetting = 'RSA_PRIVATE_KEY_PEM' | 'RSA_PRIVATE_KEY_PATH' | 'KEYS_DIR' | 'COOKIE_KEYS' | 'REDIS_URL';

/**
 * A signing-key setting is unusable. The message is one line, starts with the setting name and
 * never contains key material, so callers can log it and exit.
 */
export class KeyConfigError extends Error {
  override readonly name = 'KeyConfigError';
  readonly setting: KeySetting;

  constructor(setting: KeySetting, detail: string) {
    super(`${setting}: ${detail.replace(/[\r\n]+/g, ' ')}`);
    this.setting = setting;
  }
}

/** A path or user-supplied value as it may appear in a one-line message (control characters escaped). */
export function printable(path: string): string {
  return /[\x00-\x1f\x7f]/.test(path) ? JSON.stringify(path) : path;
}
