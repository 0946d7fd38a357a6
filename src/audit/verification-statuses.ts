import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Store } from '../storage/index.ts';
import type { VerificationStatus, VerificationStatusStore } from './verification.ts';

/**
 * The verification status of one log in the Store. Each instance writes its own log, so the key
 * names the log by host, directory and origin: instances sharing a Redis keep separate statuses.
 */
export function storedVerificationStatuses(store: Pick<Store, 'get' | 'put'>, log: { dir: string; origin: string }): VerificationStatusStore {
  const id = createHash('sha256').update(`${hostname()}\n${resolve(log.dir)}\n${log.origin}`).digest('hex').slice(0, 32);
  const key = `audit:verification:${id}`;
  return {
    get: async () => (await store.get<VerificationStatus>(key))?.value,
    put: (status) => store.put(key, status),
  };
}
