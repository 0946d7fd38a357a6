import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallbackServer {
  /** http://127.0.0.1:<port>/callback: a loopback redirect URI, which matches one registered without a port (RFC 8252). */
  redirectUri: string;
  close(): Promise<void>;
}

/**
 * A client's redirect URI served for real on loopback, so a browser lands on it even at the end of
 * a redirect chain (Playwright's routes see only a chain's first request, so serveRedirectUri cannot).
 */
export async function startCallbackServer(): Promise<CallbackServer> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>client callback</title><p>callback reached</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
