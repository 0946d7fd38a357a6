import type { Server, ServerResponse } from 'node:http';

/**
 * Graceful close for an HTTP/1.1 server; call it once, right after creating the server, and call
 * what it returns to stop. Stopping refuses new connections, lets the requests in flight finish,
 * and answers them (and any request still arriving on a busy keep-alive connection) with
 * `Connection: close`, so no connection keeps the server open until its keep-alive timeout.
 */
export function gracefulClose(server: Server): () => Promise<void> {
  const unanswered = new Set<ServerResponse>();
  let closing = false;
  server.on('request', (_request, response: ServerResponse) => {
    if (closing) response.setHeader('Connection', 'close');
    unanswered.add(response);
    response.once('close', () => unanswered.delete(response));
  });
  return async () => {
    closing = true;
    for (const response of unanswered) if (!response.headersSent) response.setHeader('Connection', 'close');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
