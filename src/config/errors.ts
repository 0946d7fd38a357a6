/** A bad setting: the message is one line that names it; the process exits with code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.setting = setting;
  }
}
