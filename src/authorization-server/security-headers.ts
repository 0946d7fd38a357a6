import helmet from 'helmet';
import type { Middleware } from 'koa';

/**
 * helmet for every response: pages get a strict CSP (our stylesheet only, no framing), the
 * whole server gets nosniff, no referrer and, when the issuer is https, HSTS. oidc-provider
 * adds the hash of its own inline script to `script-src` when it renders a form_post response.
 */
export function securityHeaders(options: { https: boolean }): Middleware {
  const apply = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        scriptSrc: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        // form-action is left out on purpose: browsers apply it to the redirect that follows a
        // consent form, and the client's redirect URI can be any origin or a custom scheme.
      },
    },
    strictTransportSecurity: options.https ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    crossOriginResourcePolicy: false,
    crossOriginOpenerPolicy: { policy: 'same-origin' },
  });
  return async (ctx, next) => {
    await new Promise<void>((resolve, reject) => {
      apply(ctx.req as never, ctx.res as never, (error?: unknown) => (error ? reject(error) : resolve()));
    });
    await next();
  };
}
