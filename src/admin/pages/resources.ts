import Router from '@koa/router';
import { requireAdmin } from '../console-guard.ts';
import { defaultAccessTokenTtl, type ConsolePage } from '../console-page.ts';
import { renderResources } from '../resources-views.ts';

/** Resources and tool scopes: read-only, from the configuration. */
export const resourcesPage: ConsolePage = (deps) => {
  const router = new Router({ prefix: '/admin/resources' });
  router.get('/', (ctx) => {
    const viewer = requireAdmin(ctx);
    ctx.body = renderResources({ viewer, resources: deps.config.resources, defaultAccessTokenTtlSeconds: defaultAccessTokenTtl(deps) });
  });
  return router;
};
