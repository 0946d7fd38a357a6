import type { Middleware } from 'koa';
import { closeOnUnreadBody } from '../http/unread-body.ts';
import type { Logger } from '../log/index.ts';
import { problemBoundary } from './problem.ts';
import { securityHeaders } from './security-headers.ts';

/** The console on its own listener (ADMIN_PORT) gets the main app's protections: headers, body limits, 503 on a store outage. */
export function consoleListenerMiddleware(log: Logger, operatorConsole: Middleware): Middleware[] {
  return [closeOnUnreadBody(), problemBoundary(log), securityHeaders({ https: false }), operatorConsole];
}
