import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Koa, { type Middleware } from 'koa';
import type { Logger } from 'pino';
import { logUnfinishedResponses } from '../http/client-errors.ts';
import { metricsEndpoint, type MetricsAccess } from './endpoint.ts';
import type { Metrics } from './index.ts';

export interface AdminListener {
  url: string;
  close(): Promise<void>;
}

export interface AdminListenerOptions {
  port: number;
  host: string;
  log: Logger;
  /** /metrics here with these rules; undefined: not here. */
  metrics?: { metrics: Pick<Metrics, 'exposition'>; access: MetricsAccess };
  /** What else this listener serves (the operator console on ADMIN_PORT), after /metrics. */
  middleware?: Middleware[];
}

/** A listener away from the public one: /metrics (METRICS_PORT), the console (ADMIN_PORT), or both on one port. */
export async function startAdminListener(options: AdminListenerOptions): Promise<AdminListener> {
  const app = new Koa();
  logUnfinishedResponses(app, options.log);
  if (options.metrics) app.use(metricsEndpoint(options.metrics.metrics, options.metrics.access));
  for (const middleware of options.middleware ?? []) app.use(middleware);
  const server = app.listen({ port: options.port, host: options.host });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
