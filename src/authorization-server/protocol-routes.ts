/**
 * Whether oidc-provider's router sends a request for `path` to the endpoint at `endpoint` (an
 * ASCII path such as TOKEN_PATH). Its router ignores case and one trailing slash, so `/TOKEN` and
 * `/token/` reach the token endpoint too: a gate in front of an endpoint must see them as well,
 * or they are a way around it. (A few non-ASCII letters that lower-case to ASCII match here and
 * not there: the gate then looks at a request oidc-provider answers with 404, which is harmless.)
 */
export function routesTo(path: string, endpoint: string): boolean {
  const trimmed = path.length === endpoint.length + 1 && path.charCodeAt(endpoint.length) === 0x2f /* / */ ? path.slice(0, -1) : path;
  return trimmed === endpoint || (trimmed.length === endpoint.length && trimmed.toLowerCase() === endpoint.toLowerCase());
}
