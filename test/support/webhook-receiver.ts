import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP endpoint on loopback that records what is POSTed to it; the first `failFirst` posts get a 503. */
export async function startWebhookReceiver(options: { failFirst?: number } = {}): Promise<{ url: string; received: ReceivedHook[]; attempts: number; close(): Promise<void> }> {
  const state = { received: [] as ReceivedHook[], attempts: 0 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.attempts += 1;
      if (state.attempts <= (options.failFirst ?? 0)) {
        response.writeHead(503).end();
        return;
      }
      state.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    received: state.received,
    get attempts() {
      return state.attempts;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
