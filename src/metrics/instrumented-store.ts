import type { Store } from '../storage/index.ts';
import type { Metrics } from './index.ts';

const TIMED = ['get', 'put', 'putIfAbsent', 'consume', 'consumeAndPut', 'delete', 'findByTag', 'increment', 'deleteByTag', 'ping'] as const;

/** The same store, with every operation's latency recorded by engine and operation. */
export function instrumentedStore(store: Store, metrics: Metrics): Store {
  const timed: Partial<Store> = {};
  for (const operation of TIMED) {
    const original = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    // Labels bound once: observing then costs no label lookup on the request path.
    const histogram = metrics.storeDuration.labels({ engine: store.engine, operation });
    (timed as Record<string, unknown>)[operation] = (...args: unknown[]) => {
      const started = performance.now();
      const observe = () => histogram.observe((performance.now() - started) / 1000);
      const pending = original(...args);
      pending.then(observe, observe);
      return pending;
    };
  }
  return { ...timed, engine: store.engine, close: () => store.close() } as Store;
}
