import type { IncomingMessage, ServerResponse } from 'node:http';
import { metadataPathFor, PROTECTED_RESOURCE_WELL_KNOWN, type ProtectedResourceMetadata } from './metadata.ts';

/** Answers a request when it is for the metadata document; false when the path is another one. */
export type MetadataHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * Serves the RFC 9728 document at /.well-known/oauth-protected-resource and at the resource's
 * path-inserted form (e.g. /.well-known/oauth-protected-resource/mcp), readable from any origin.
 *
 * @example
 * const serveMetadata = protectedResourceMetadataHandler(protectedResourceMetadata({ resource, authorizationServers: [issuer], scopesSupported }));
 * http.createServer((req, res) => serveMetadata(req, res) || notFound(res));
 */
export function protectedResourceMetadataHandler(metadata: ProtectedResourceMetadata): MetadataHandler {
  const paths = new Set([PROTECTED_RESOURCE_WELL_KNOWN, metadataPathFor(metadata.resource)]);
  const body = JSON.stringify(metadata);
  return (request, response) => {
    if (!paths.has(new URL(request.url ?? '/', 'http://localhost').pathname)) return false;
    response.setHeader('Access-Control-Allow-Origin', '*');
    if (request.method === 'OPTIONS') {
      response.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Headers': '*', 'Access-Control-Max-Age': '86400' });
    } else if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD, OPTIONS' });
    } else {
      response.writeHead(200, { 'Cache-Control': 'public, max-age=300', 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      if (request.method === 'GET') response.write(body);
    }
    response.end();
    return true;
  };
}
