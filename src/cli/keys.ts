import type { Config } from '../config/index.ts';
import { listKeys, retireKey, rotateKey } from '../keys/index.ts';
import { printTable, UsageError } from './io.ts';

export const keysUsage = `portcullis keys list [--json]
portcullis keys rotate
portcullis keys retire <kid>`;

/** Key rotation works on KEYS_DIR; a running server picks the change up when it restarts. */
export async function keysCommand(config: Config, args: string[]): Promise<void> {
  const [action, kid] = args;
  if (config.rsaPrivateKeyPem) {
    throw new UsageError('RSA_PRIVATE_KEY_PEM is set: the signing key comes from the environment, so rotate it there');
  }
  if (action === 'list') {
    const keys = await listKeys(config.keysDir);
    if (keys.length === 0 && !args.includes('--json')) {
      process.stdout.write(`no keys in ${config.keysDir} yet: the server generates one at its first start (or run keys rotate)\n`);
      return;
    }
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify(keys)}\n`);
    else printTable(keys.map((key) => ({ kid: key.kid, created: key.createdAt, status: key.status })));
    return;
  }
  if (action === 'rotate') {
    const key = await rotateKey(config.keysDir);
    process.stdout.write(`new signing key ${key.kid}; older keys stay published until retired. Restart the server to sign with it.\n`);
    return;
  }
  if (action === 'retire') {
    if (!kid) throw new UsageError(`a kid is required\n${keysUsage}`);
    await retireKey(config.keysDir, kid);
    process.stdout.write(`retired key ${kid}; it leaves /jwks when the server restarts\n`);
    return;
  }
  throw new UsageError(keysUsage);
}
