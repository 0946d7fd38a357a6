import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { getCACertificates } from 'node:tls';
import type { Logger } from '../../log/index.ts';
import { describeForbidden, forbiddenAddress } from './address-classes.ts';
import { OutboundError } from './errors.ts';
import { internalHostnameProblem, isLoopbackName } from './hostname-rules.ts';
import { pinnedRequest, type ResolvedAddress } from './pinned-request.ts';

/** Resolves a host name to every address it has (an injected one lets tests stand in for DNS). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export type OutboundFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface OutboundOptions {
  log: Logger;
  resolve?: Resolver;
  /** Test suites only: lets loopback hosts through, for fixture servers on 127.0.0.1. */
  allowLoopback?: boolean;
  /** Extra CA certificates (PEM) to trust besides the system ones. */
  extraCa?: string;
  /** Cap on every response body, in bytes. */
  maxResponseBytes?: number;
  timeoutMs?: number;
}

const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

/**
 * fetch() for requests the server makes on a client's say-so (client metadata documents,
 * jwks_uri, sector identifiers): https only, public addresses only, resolved once and connected
 * to exactly what was checked, no redirects, bounded size and time. Every refusal is logged.
 */
export function createOutboundFetch(options: OutboundOptions): OutboundFetch {
  const resolve = options.resolve ?? systemResolver;
  // `ca` replaces Node's trust store, so start from what Node would trust by default.
  const ca = options.extraCa ? [...getCACertificates('default'), options.extraCa] : undefined;
  const maxBytes = options.maxResponseBytes ?? 64 * 1024;
  const timeoutMs = options.timeoutMs ?? 5000;

  async function checkedAddresses(url: URL): Promise<ResolvedAddress[]> {
    if (url.protocol !== 'https:') throw new OutboundError('not_https', `${url.protocol.slice(0, -1)} URLs are not fetched; only https`);
    if (url.username || url.password) throw new OutboundError('credentials_in_url', 'URLs with credentials are not fetched');
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host)) return [checkAddress(host, host)];
    const internal = internalHostnameProblem(host);
    if (internal && !(options.allowLoopback && isLoopbackName(host))) throw new OutboundError('internal_hostname', internal);
    let addresses: ResolvedAddress[];
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw new OutboundError('unresolvable', `${host} does not resolve`, `${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (addresses.length === 0) throw new OutboundError('unresolvable', `${host} does not resolve`);
    // One forbidden address is enough to refuse: the connection could land on any of them.
    return addresses.map(({ address }) => checkAddress(host, address));
  }

  function checkAddress(host: string, address: string): ResolvedAddress {
    const forbidden = forbiddenAddress(address);
    if (forbidden && !(options.allowLoopback && forbidden.kind === 'loopback' && !forbidden.embeddedIn)) {
      const what = describeForbidden(forbidden);
      throw host === address
        ? new OutboundError('forbidden_address', `${address} is not a public address: ${what}`)
        : new OutboundError('forbidden_address', `${host} resolves to an address that is not public: ${what}`, `${host} resolves to ${address}: ${what}`);
    }
    return { address, family: isIP(address) === 6 ? 6 : 4 };
  }

  return async function outboundFetch(input, init = {}) {
    const url = new URL(input instanceof Request ? input.url : String(input));
    try {
      const response = await pinnedRequest({
        url,
        addresses: await checkedAddresses(url),
        method: init.method ?? 'GET',
        headers: requestHeaders(init.headers),
        ...(init.body != null ? { body: requestBody(init.body) } : {}),
        ...(ca ? { ca } : {}),
        maxBytes,
        timeoutMs,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      const nullBody = [204, 205, 304].includes(response.status);
      // The body is already whole: say its real length, so size checks downstream need not stream it.
      response.headers.delete('transfer-encoding');
      if (!nullBody) response.headers.set('content-length', String(response.body.length));
      return new Response(nullBody ? null : new Uint8Array(response.body), { status: response.status, headers: response.headers });
    } catch (error) {
      if (error instanceof OutboundError) {
        const refused = !['timeout', 'tls', 'network', 'unresolvable'].includes(error.reason);
        options.log.warn(
          { outbound: { url: `${url.origin}${url.pathname}`, reason: error.reason, detail: error.logDetail } },
          refused ? 'outbound request refused' : 'outbound request failed',
        );
      }
      throw error;
    }
  };
}

function requestHeaders(init: RequestInit["headers"]): Record<string, string> {
  const headers: Record<string, string> = {};
  new Headers(init).forEach((value, name) => {
    if (value !== '') headers[name] = value;
  });
  headers['user-agent'] ??= 'Portcullis';
  return headers;
}

function requestBody(body: NonNullable<RequestInit["body"]>): Buffer {
  if (typeof body === 'string' || body instanceof URLSearchParams) return Buffer.from(String(body));
  if (body instanceof Uint8Array) return Buffer.from(body);
  throw new TypeError('outbound requests support string, URLSearchParams or byte bodies');
}
