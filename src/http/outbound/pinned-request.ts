import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { OutboundError } from './errors.ts';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface PinnedRequest {
  url: URL;
  /** The addresses already checked; the connection goes to these and nowhere else. */
  addresses: ResolvedAddress[];
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Trusted CA certificates (PEM), replacing the defaults when given. */
  ca?: string[];
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PinnedResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

const TLS_ERROR = /CERT|SELF_SIGNED|ERR_TLS|ERR_SSL|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/**
 * One https request over a connection to a checked address: `lookup` hands Node's socket the
 * addresses we validated instead of resolving again, so there is no DNS-rebinding window, while
 * SNI and certificate checks still use the host name. Redirects are refused, the body is capped.
 */
export function pinnedRequest(options: PinnedRequest): Promise<PinnedResponse> {
  const { url, addresses, maxBytes } = options;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const lookup: LookupFunction = (_name, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]);

  return new Promise((resolve, reject) => {
    const fail = (error: OutboundError) => {
      req.destroy(error);
      reject(error);
    };
    const req = request({
      host,
      port: url.port || 443,
      path: `${url.pathname}${url.search}`,
      method: options.method,
      headers: options.headers,
      lookup,
      agent: false,
      ...(isIP(host) ? {} : { servername: host }),
      ...(options.ca ? { ca: options.ca } : {}),
    }, (res) => collect(res, maxBytes, url).then(resolve, (error: unknown) => fail(
      error instanceof OutboundError ? error : new OutboundError('network', `the connection to ${url.host} broke off`),
    )));
    const onAbort = () => fail(new OutboundError('timeout', `${url.host} did not answer within ${options.timeoutMs} ms`));
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal.removeEventListener('abort', onAbort));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof OutboundError) return reject(error);
      const code = error.code ?? error.name;
      if (TLS_ERROR.test(code)) return reject(new OutboundError('tls', `the TLS certificate of ${url.host} is not trusted (${code})`));
      reject(new OutboundError('network', `cannot reach ${url.host} (${code})`));
    });
    req.end(options.body);
  });
}

async function collect(res: IncomingMessage, maxBytes: number, url: URL): Promise<PinnedResponse> {
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    throw new OutboundError('redirect', `${url.host} answered ${status} with a redirect; redirects are not followed`);
  }
  const tooLarge = () => new OutboundError('too_large', `the response from ${url.host} is larger than ${maxBytes} bytes`);
  if (Number(res.headers['content-length'] ?? 0) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  const headers = new Headers();
  for (let index = 0; index < res.rawHeaders.length; index += 2) headers.append(res.rawHeaders[index]!, res.rawHeaders[index + 1]!);
  return { status, headers, body: Buffer.concat(chunks) };
}
