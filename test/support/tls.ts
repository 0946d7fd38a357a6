import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  /** PEM of a throwaway CA; trust it with OUTBOUND_CA_FILE=caFile or the extraCa option. */
  ca: string;
  caFile: string;
  key: string;
  cert: string;
  remove(): void;
}

/**
 * A fresh self-signed CA and a leaf certificate it signed, made with the openssl CLI at test
 * time (nothing is committed). The leaf is valid for localhost, 127.0.0.1, ::1 and `names`.
 */
export function makeTestCertificates(names: string[] = []): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=Portcullis test CA', '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-keyout', file('leaf.key'), '-out', file('leaf.csr'));
  const altNames = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', ...names.map((name) => `DNS:${name}`)].join(',');
  writeFileSync(file('leaf.ext'), `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl('x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', file('leaf.ext'), '-out', file('leaf.pem'));
  return {
    ca: readFileSync(file('ca.pem'), 'utf8'),
    caFile: file('ca.pem'),
    key: readFileSync(file('leaf.key'), 'utf8'),
    cert: readFileSync(file('leaf.pem'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type FixtureHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpsFixture {
  /** https://localhost:<port> */
  origin: string;
  port: number;
  /** Requests seen, as "METHOD /path". */
  requests: string[];
  /** Replaces the answer for one path. */
  route(path: string, handler: FixtureHandler): void;
  /** Serves `body` as JSON at `path`, with extra headers. */
  json(path: string, body: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

/** An https server on loopback with the test CA's leaf certificate; unknown paths get 404. */
export async function startHttpsFixture(certificates: TestCertificates): Promise<HttpsFixture> {
  const routes = new Map<string, FixtureHandler>();
  const requests: string[] = [];
  const server: Server = createServer({ key: certificates.key, cert: certificates.cert }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://fixture').pathname;
    requests.push(`${req.method} ${path}`);
    const handler = routes.get(path);
    if (handler) return handler(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://localhost:${port}`,
    port,
    requests,
    route: (path, handler) => routes.set(path, handler),
    json: (path, body, headers = {}) => routes.set(path, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
