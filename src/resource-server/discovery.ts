import { TokenVerificationError } from './errors.ts';
import { fetchJson, type FetchLike } from './fetch-json.ts';
import { secureUrl } from './secure-url.ts';

export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  [member: string]: unknown;
}

/**
 * Where an issuer's metadata may be, in the order they are tried: RFC 8414 §3.1 (the well-known
 * segment inserted between host and path, a trailing slash dropped), then OpenID Connect
 * Discovery §4 (appended to the issuer).
 *
 * @example
 * discoveryUrls('https://login.example.com/tenant');
 * // ['https://login.example.com/.well-known/oauth-authorization-server/tenant',
 * //  'https://login.example.com/tenant/.well-known/openid-configuration']
 */
export function discoveryUrls(issuer: string): [string, string] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
  ];
}

function usableMetadata(body: unknown, issuer: string, allowInsecureHttp: boolean): IssuerMetadata | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'is not a JSON object';
  const document = body as Record<string, unknown>;
  if (document.issuer !== issuer) return `names the issuer ${JSON.stringify(document.issuer)}, not ${JSON.stringify(issuer)}`;
  if (typeof document.jwks_uri !== 'string') return 'has no jwks_uri';
  try {
    secureUrl(document.jwks_uri, 'jwks_uri', allowInsecureHttp);
  } catch (error) {
    return (error as Error).message;
  }
  return document as IssuerMetadata;
}

/**
 * Fetches and checks the issuer's metadata: its `issuer` must equal the configured issuer
 * exactly, and `jwks_uri` must be https (or loopback http). Throws `issuer_unreachable`.
 */
export async function discoverIssuer(
  issuer: string,
  options: { fetch: FetchLike; timeoutMs: number; allowInsecureHttp: boolean },
): Promise<IssuerMetadata> {
  const problems: string[] = [];
  for (const url of discoveryUrls(issuer)) {
    const result = await fetchJson(options.fetch, url, options.timeoutMs);
    if (!result.ok) {
      problems.push(result.reason);
      continue;
    }
    const metadata = usableMetadata(result.body, issuer, options.allowInsecureHttp);
    if (typeof metadata === 'string') {
      problems.push(`${url} ${metadata}`);
      continue;
    }
    return metadata;
  }
  throw new TokenVerificationError('issuer_unreachable', `could not discover the issuer ${issuer}: ${problems.join('; ')}`);
}
