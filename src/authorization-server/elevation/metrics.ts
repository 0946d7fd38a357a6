import { Gauge, type Registry } from 'prom-client';
import type { ElevationRecords } from './records.ts';

const NAME = 'portcullis_break_glass_unacknowledged';

/** Break-glass elevations no admin has reviewed yet, read from the Store at each scrape. */
export function registerBreakGlassGauge(registry: Registry, records: ElevationRecords): void {
  registry.removeSingleMetric(NAME);
  new Gauge({
    name: NAME, help: 'Break-glass elevations not yet acknowledged by an admin', registers: [registry],
    async collect() {
      this.set((await records.unacknowledgedBreakGlass()).length);
    },
  });
}
