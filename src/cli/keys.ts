import { parseArgs } from 'node:util';
import { DISABLED_AUDIT } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import { auditOutbox } from '../authorization-server/audit-outbox.ts';
import { loadCookieKeys } from '../authorization-server/cookie-keys.ts';
import { openSigningKeys } from '../authorization-server/signing-keys.ts';
import { cliActor, recordAdminEvent } from '../admin/admin-events.ts';
import { KeyChangeRefusedError, type KeyView, type RecordKeyChange } from '../keys/index.ts';
import { silentLogger } from '../log/index.ts';
import { openStore, usesRedis } from '../storage/index.ts';
import { printTable, UsageError } from './io.ts';

export const keysUsage = `portcullis keys list [--json]
portcullis keys rotate
portcullis keys retire <kid>`;

/** Rotates and retires through the same service as the console; running servers follow within seconds. */
export async function keysCommand(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const [action, kid] = positionals;
  if (action !== 'list' && action !== 'rotate' && action !== 'retire') throw new UsageError(keysUsage);
  if (action === 'retire' && !kid) throw new UsageError(`a kid is required\n${keysUsage}`);
  const store = await openStore(config);
  try {
    const audit = config.audit === 'off' ? DISABLED_AUDIT : auditOutbox(store);
    const cookieKeys = usesRedis(config) ? loadCookieKeys(config) : [];
    const keys = await openSigningKeys(config, store, cookieKeys);
    const actor = cliActor();
    const record: RecordKeyChange = (event) => recordAdminEvent(audit, silentLogger(), { ...event, actor });
    if (action === 'list') {
      const listed = await keys.list();
      if (values.json) process.stdout.write(`${JSON.stringify(listed)}\n`);
      else printTable(listed.map(row));
      return;
    }
    if (action === 'rotate') {
      const key = await refusalsAsUsage(keys.rotate(record));
      process.stdout.write(`new key ${key.kid} is published now and signs from ${key.activatesAt}; older keys stay published until retired\n`);
      return;
    }
    const { warning } = await refusalsAsUsage(keys.retire(kid!, record));
    if (warning) process.stderr.write(`warning: ${warning}\n`);
    process.stdout.write(`retired key ${kid}; running servers stop publishing it within seconds\n`);
  } finally {
    await store.close();
  }
}

async function refusalsAsUsage<T>(change: Promise<T>): Promise<T> {
  try {
    return await change;
  } catch (error) {
    if (!(error instanceof KeyChangeRefusedError)) throw error;
    throw new UsageError(error.detail);
  }
}

/** Statuses in the words the console uses. */
export const STATUS_WORDS = { next: 'next', signing: 'current', published: 'published', retired: 'retired' } as const;

function row(key: KeyView): Record<string, string> {
  return {
    kid: key.kid,
    created: key.createdAt || '-',
    status: STATUS_WORDS[key.status],
    signs: key.status === 'next' ? `from ${key.activatesAt}` : '',
    tokens: key.inUseUntil ? `valid until ${key.inUseUntil}` : '',
  };
}
