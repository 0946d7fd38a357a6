import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

/**
 * Ports are picked below Linux's ephemeral range (32768-60999), which listen(0) and every
 * outgoing connection draw from: a port taken there could be reused by another test's
 * connection before the server it was meant for binds it. Redis Cluster nodes also bind their
 * port + 10000, which stays out of both ranges.
 */
const FIRST = 10_000;
const LAST = 15_999;

/** A port that was free a moment ago on loopback (the issuer URL must name it before start). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomInt(FIRST, LAST + 1);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port between ${FIRST} and ${LAST}`);
}

function bindable(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
