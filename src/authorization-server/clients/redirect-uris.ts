const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function isLoopbackHttp(uri: URL): boolean {
  return uri.protocol === 'http:' && LOOPBACK_HOSTS.has(uri.hostname);
}

/** `http://` and a loopback host exactly as registered (lower case), then an optional port, then the rest. */
const LOOPBACK_AUTHORITY = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?(?=[/?#]|$)/;

/**
 * RFC 8252 §7.3: a loopback redirect URI matches a registered one whatever the port, because
 * native apps bind an ephemeral port. Everything else is compared as a string (RFC 9700 §4.1.3):
 * no case folding, percent-decoding or dot-segment removal, and no userinfo or fragment.
 */
export function loopbackRedirectMatches(presented: string, registered: readonly string[]): boolean {
  const candidate = withoutLoopbackPort(presented);
  return candidate !== undefined && registered.some((value) => withoutLoopbackPort(value) === candidate);
}

function withoutLoopbackPort(uri: string): string | undefined {
  const match = LOOPBACK_AUTHORITY.exec(uri);
  if (!match || Number(match[2] ?? 80) > 65_535) return undefined;
  return `http://${match[1]}${uri.slice(match[0].length)}`;
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

/**
 * MCP 2026-07-28 / OIDC registration: a client that says what it is gets only redirect URIs that
 * fit. `native`: loopback http or a private-use scheme; `web`: https only.
 */
export function applicationTypeProblem(declared: unknown, redirectUris: readonly string[]): string | undefined {
  if (declared !== 'native' && declared !== 'web') return undefined;
  for (const value of redirectUris) {
    const uri = URL.parse(value);
    if (!uri) continue;
    const privateUse = !/^https?:$/.test(uri.protocol);
    if (declared === 'web' && uri.protocol !== 'https:') return `${value} is not https, which a web application must use (native apps may use loopback or their own scheme)`;
    if (declared === 'native' && !privateUse && !isLoopbackHttp(uri)) return `${value} is neither loopback http nor a private-use scheme, which a native application must use`;
  }
  return undefined;
}
