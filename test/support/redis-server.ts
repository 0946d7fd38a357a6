import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './ports.ts';

/** A redis-server of the test's own on a free loopback port (never the shared one), keeping nothing on disk. */
export interface OwnRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** With `tls`, it answers TLS only (rediss://), with that certificate and key files. */
export async function startOwnRedis(tls?: { certFile: string; keyFile: string }): Promise<OwnRedis> {
  const port = await freePort();
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const child = await spawnRedis('redis-server', [...listen, ...EPHEMERAL]);
  return { url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`, port, stop: () => stopChild(child) };
}

/** Loopback only, nothing kept on disk. */
export const EPHEMERAL = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

/** Starts redis-server (or redis-sentinel) and resolves once it accepts connections. */
export async function spawnRedis(command: string, args: string[], ready = /Ready to accept connections|Sentinel ID is/): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      if (ready.test(output)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code}: ${output}`)));
    child.on('error', reject);
  });
  return child;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/**
 * A TCP proxy on loopback in front of a port. `cut()` drops every connection and refuses new ones
 * (Redis "goes away" for its clients, keeping its data); `restore()` lets connections through again.
 */
export interface CuttableProxy {
  url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((incoming) => {
    track(incoming);
    if (!open) {
      incoming.destroy();
      return;
    }
    const outgoing = createConnection({ host: '127.0.0.1', port: targetPort });
    track(outgoing);
    incoming.pipe(outgoing).pipe(incoming);
    incoming.on('close', () => outgoing.destroy());
    outgoing.on('close', () => incoming.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      open = true;
    },
    async close() {
      open = false;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
