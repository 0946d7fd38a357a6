const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function isLoopbackHttp(uri: URL): boolean {
  return uri.protocol === 'http:' && LOOPBACK_HOSTS.has(uri.hostname);
}

/**
 * RFC 8252 §7.3: a loopback redirect URI matches a registered one whatever the port, because
 * native apps bind an ephemeral port. Everything else must match exactly.
 */
export function loopbackRedirectMatches(presented: string, registered: readonly string[]): boolean {
  const candidate = URL.parse(presented);
  if (!candidate || !isLoopbackHttp(candidate)) return false;
  const withoutPort = (uri: URL) => `${uri.protocol}//${uri.hostname}${uri.pathname}${uri.search}`;
  return registered.some((value) => {
    const allowed = URL.parse(value);
    return allowed !== null && isLoopbackHttp(allowed) && withoutPort(allowed) === withoutPort(candidate)
      && !candidate.username && !candidate.password && !candidate.hash;
  });
}

/** Redirect URIs a client may register: https, loopback http, or a private-use scheme (cursor://). */
export function redirectUriProblem(value: string): string | undefined {
  const uri = URL.parse(value);
  if (!uri) return `${value} is not an absolute URI`;
  if (uri.hash || value.includes('#')) return `${value} must not have a fragment`;
  if (uri.protocol === 'https:' || isLoopbackHttp(uri)) return undefined;
  if (uri.protocol === 'http:') return `${value} uses http; only loopback hosts may (use https)`;
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:'].includes(uri.protocol)) return `${value} uses a forbidden scheme`;
  return undefined;
}

/** native for apps with private-use schemes (their URIs are not web URIs), web otherwise. */
export function applicationTypeFor(redirectUris: readonly string[]): 'web' | 'native' {
  return redirectUris.some((uri) => !/^https?:/.test(uri)) ? 'native' : 'web';
}
