import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the client does on the wire: bytes to write, pauses, and how it leaves. */
export type Step = Buffer | string | { pauseMs: number } | 'half-close' | 'reset';

export interface RawExchange {
  /** Everything the server sent back. */
  received: string;
  /** Status codes of the responses, in order. */
  statuses: number[];
  /** The server closed the connection (rather than the client giving up waiting). */
  closedByServer: boolean;
}

/**
 * Plays a client byte by byte over a plain TCP connection, for requests no HTTP client would
 * send (truncated, malformed, pipelined). Waits for the server to close, or for `quietMs` without
 * a new byte once it has answered (a kept-alive connection), at most `maxMs` in all.
 */
export async function rawExchange(port: number, steps: Step[], options: { quietMs?: number; maxMs?: number } = {}): Promise<RawExchange> {
  const { quietMs = 250, maxMs = 3_000 } = options;
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  let closed = false;
  let lastByte = 0;
  socket.on('data', (chunk) => { chunks.push(chunk); lastByte = Date.now(); });
  socket.on('error', () => {});
  const closedPromise = new Promise<void>((resolve) => socket.once('close', () => { closed = true; resolve(); }));
  await new Promise<void>((resolve) => { socket.once('connect', resolve); socket.once('close', resolve); });
  const started = Date.now();
  for (const step of steps) {
    if (closed) break;
    if (step === 'half-close') socket.end();
    else if (step === 'reset') socket.resetAndDestroy();
    else if (typeof step === 'object' && 'pauseMs' in step) await sleep(step.pauseMs);
    else socket.write(step);
  }
  while (!closed && Date.now() - started < maxMs && (chunks.length === 0 || Date.now() - lastByte < quietMs)) {
    await Promise.race([closedPromise, sleep(25)]);
  }
  const closedByServer = closed && !steps.includes('reset');
  socket.destroy();
  const received = Buffer.concat(chunks).toString('latin1');
  const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
  return { received, statuses, closedByServer };
}

/** An HTTP/1.1 request as bytes; `Content-Length` is added for a body unless a header already sets the framing. */
export function rawRequest(method: string, path: string, headers: Record<string, string>, body: Buffer | string = ''): Buffer {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const names = Object.keys(headers).map((name) => name.toLowerCase());
  const framing = names.includes('content-length') || names.includes('transfer-encoding') || payload.length === 0 ? {} : { 'Content-Length': String(payload.length) };
  const lines = Object.entries({ Host: '127.0.0.1', ...framing, ...headers }).map(([name, value]) => `${name}: ${value}`);
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}
