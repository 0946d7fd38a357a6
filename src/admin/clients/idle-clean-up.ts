import type { Logger } from '../../log/index.ts';
import type { Store } from '../../storage/index.ts';
import type { AdminActor } from '../admin-events.ts';
import type { ClientService } from './client-service.ts';

const HOUR_MS = 3_600_000;
const SCHEDULE: AdminActor = { subject: 'system:idle-client-clean-up', name: 'scheduled clean-up', via: 'schedule' };

export interface IdleCleanUpOptions {
  clients: ClientService;
  store: Store;
  log: Logger;
  /** REGISTERED_CLIENT_MAX_IDLE_DAYS; undefined: no clean-up. */
  days: number | undefined;
}

/** Once an hour (and at start), `cleanUpThisHour`. */
export function scheduleIdleClientCleanUp(options: IdleCleanUpOptions): { stop(): void } {
  if (options.days === undefined) return { stop() {} };
  const run = () => void cleanUpThisHour(options).catch((error: unknown) => {
    options.log.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'idle client clean-up failed; the next hour tries again');
  });
  const timer = setInterval(run, HOUR_MS);
  timer.unref();
  run();
  return { stop: () => clearInterval(timer) };
}

/**
 * Deletes the registered clients idle for `days`, on one instance per clock hour: whichever takes
 * the hour's Store key first. Returns the deleted ids, or undefined when another run had the hour.
 */
export async function cleanUpThisHour(options: IdleCleanUpOptions, nowMs = Date.now()): Promise<string[] | undefined> {
  const { clients, store, log, days } = options;
  if (days === undefined) return undefined;
  const hour = Math.floor(nowMs / HOUR_MS);
  if (!(await store.putIfAbsent(`client-clean-up:${hour}`, { startedAt: new Date(nowMs).toISOString() }, { ttlSeconds: 2 * 3600 }))) return undefined;
  const removed = await clients.cleanUpIdle(days, SCHEDULE, Math.floor(nowMs / 1000));
  if (removed.length) log.info({ event: 'clients_cleaned_up', idleDays: days, clients: removed.length }, `deleted ${removed.length} registered clients not used for ${days} days`);
  return removed;
}
