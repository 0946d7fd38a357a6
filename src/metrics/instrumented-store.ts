import type { Store } from '../storage/index.ts';
import type { Metrics } from './index.ts';

const TIMED = ['get', 'put', 'putIfAbsent', 'consume', 'delete', 'findByTag', 'increment', 'deleteByTag', 'ping'] as const;

/** The same store, with every operation's latency recorded by engine and operation. */
export function instrumentedStore(store: Store, metrics: Metrics): Store {
  const timed: Partial<Store> = {};
  for (const operation of TIMED) {
    const original = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (timed as Record<string, unknown>)[operation] = async (...args: unknown[]) => {
      const stop = metrics.storeDuration.startTimer({ engine: store.engine, operation });
      try {
        return await original(...args);
      } finally {
        stop();
      }
    };
  }
  return { ...timed, engine: store.engine, close: () => store.close() } as Store;
}
