import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditSink } from '../audit/index.ts';
import type { Logger } from '../log/index.ts';
import type { Store } from '../storage/index.ts';

const TAG = 'audit-outbox';

/**
 * The audit log has one writer, the server. Commands run beside it (the CLI) leave their events
 * in the Store; the server appends them to the log and removes them.
 */
export function auditOutbox(store: Store): AuditSink {
  return {
    async append(event: AuditEvent) {
      await store.put(`${TAG}:${randomUUID()}`, { event, at: new Date().toISOString() }, { tags: [TAG] });
      return { seq: -1 };
    },
  };
}

/** Moves outbox events into the log every `intervalMs`; each event is appended by one instance only. */
export function drainAuditOutbox(store: Store, audit: AuditSink, log: Logger, intervalMs = 2000): { stop(): void } {
  let running = false;
  const drain = async () => {
    if (running) return;
    running = true;
    try {
      for (const record of await store.findByTag<{ event: AuditEvent; at: string }>(TAG)) {
        if (!(await store.consume(record.key))) continue;
        try {
          await audit.append({ ...record.value.event, recorded_by: 'cli', occurred_at: record.value.at });
          await store.delete(record.key);
        } catch (error) {
          // Put it back unconsumed so a later round (or another instance) tries again.
          await store.put(record.key, record.value, { tags: [TAG] });
          throw error;
        }
      }
    } catch (error) {
      log.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'audit outbox not drained; will retry');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void drain(), intervalMs);
  timer.unref();
  void drain();
  return { stop: () => clearInterval(timer) };
}
