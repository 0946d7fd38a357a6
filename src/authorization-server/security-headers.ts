import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { Middleware } from 'koa';

/**
 * helmet for every response: pages get a strict CSP (our stylesheet only, no framing), the
 * whole server gets nosniff, no referrer and, when the issuer is https, HSTS. oidc-provider
 * adds the hash of its own inline script to `script-src` when it renders a form_post response.
 */
export function securityHeaders(options: { https: boolean }): Middleware {
  const headers = Object.entries(helmetHeaders(options));
  return (ctx, next) => {
    for (const [name, value] of headers) ctx.res.setHeader(name, value!);
    ctx.res.removeHeader('X-Powered-By');
    return next();
  };
}

/** The headers helmet sets with these settings; they depend on nothing in the request, so they are worked out once. */
function helmetHeaders(options: { https: boolean }): OutgoingHttpHeaders {
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
  const headers: OutgoingHttpHeaders = {};
  const response = { setHeader: (name: string, value: string) => { headers[name] = value; }, removeHeader: () => {} };
  let called = false;
  apply({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    called = true;
  });
  if (!called) throw new Error('helmet did not finish synchronously');
  return headers;
}
