const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for http(s) URLs on localhost, 127.0.0.1 or [::1]. */
export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Parses a URL that keys or metadata are fetched from: it must be https, or http on loopback,
 * or http anywhere when `allowInsecureHttp` is set. Throws a TypeError naming `what` otherwise.
 */
export function secureUrl(value: string, what: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${what} must be an absolute URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (allowInsecureHttp || isLoopbackUrl(url))) return url;
  throw new TypeError(`${what} must use https (http is only accepted on localhost, 127.0.0.1 and [::1], or with allowInsecureHttp) (got ${JSON.stringify(value)})`);
}
