import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Logger } from 'pino';
import { logUnfinishedResponses } from '../http/client-errors.ts';
import { metricsEndpoint, type MetricsAccess } from './endpoint.ts';
import type { Metrics } from './index.ts';

export interface AdminListener {
  url: string;
  close(): Promise<void>;
}

/** /metrics on its own port (METRICS_PORT), away from the public one. */
export async function startAdminListener(metrics: Pick<Metrics, 'exposition'>, options: { port: number; host: string; access: MetricsAccess; log: Logger }): Promise<AdminListener> {
  const app = new Koa();
  logUnfinishedResponses(app, options.log);
  app.use(metricsEndpoint(metrics, options.access));
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
