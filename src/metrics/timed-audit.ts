import type { AuditSink } from '../audit/index.ts';
import type { Metrics } from './index.ts';

/** The same audit sink, with the time until each event is durable recorded. */
export function timedAuditSink(sink: AuditSink, metrics: Metrics): AuditSink {
  return {
    async append(event) {
      const stop = metrics.auditAppendDuration.startTimer();
      try {
        return await sink.append(event);
      } finally {
        stop();
      }
    },
  };
}
