import Router from '@koa/router';
import { currentStatus, type ElevationRecords } from './records.ts';

export const ELEVATION_STATUS_PATH = '/elevations/:id';

/**
 * GET /elevations/<id>: whether an elevation is active now, for resource servers that check
 * privileged calls live (revocation reaches them on their next call). It tells only the
 * status and end of an elevation whose random id the caller already holds in a token.
 */
export function elevationStatusRoutes(records: ElevationRecords): Router {
  const router = new Router();
  router.get(ELEVATION_STATUS_PATH, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const elevation = /^[0-9a-f-]{36}$/.test(ctx.params.id!) ? await records.get(ctx.params.id!) : undefined;
    if (!elevation) {
      ctx.status = 404;
      ctx.body = { active: false, status: 'unknown' };
      return;
    }
    const status = currentStatus(elevation, Math.floor(Date.now() / 1000));
    ctx.body = { active: status === 'active', status, end: elevation.end ?? null };
  });
  return router;
}
