import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface FixtureKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export interface FixtureIssuerOptions {
  /** Path of the issuer identifier, e.g. '/tenant' (default: none). */
  path?: string;
  /** Serve RFC 8414 metadata at the path-inserted URL (default false: only OIDC discovery, like Entra). */
  serveOAuthMetadata?: boolean;
  /** The `issuer` the metadata documents claim (default: the real one). */
  metadataIssuer?: string;
  /** Algorithm of the first key (default RS256). */
  alg?: 'RS256' | 'ES256';
}

export interface SignOptions {
  key?: FixtureKey;
  /** Header overrides; `kid: undefined` removes the kid. */
  header?: Record<string, unknown>;
}

/**
 * An independent issuer on loopback, standing in for Entra/Auth0: OpenID discovery, a JWKS at
 * /jwks, and tokens signed with jose. Counts every request per path.
 */
export interface FixtureIssuer {
  issuer: string;
  keys: FixtureKey[];
  /** Requests per path, e.g. requests['/jwks']. */
  requests: Record<string, number>;
  count(path: string): number;
  newKey(alg?: 'RS256' | 'ES256', kid?: string): Promise<FixtureKey>;
  /** Replaces the published keys (rotation). */
  publish(keys: FixtureKey[]): void;
  sign(claims: JWTPayload, options?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

let kidCounter = 0;

export async function createFixtureKey(alg: 'RS256' | 'ES256' = 'RS256', kid = `fixture-key-${++kidCounter}`): Promise<FixtureKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

export async function startFixtureIssuer(options: FixtureIssuerOptions = {}): Promise<FixtureIssuer> {
  const path = options.path ?? '';
  const first = await createFixtureKey(options.alg ?? 'RS256');
  const state = { keys: [first], published: [first] };
  const requests: Record<string, number> = {};
  let issuer = '';

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    requests[url.pathname] = (requests[url.pathname] ?? 0) + 1;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const metadata = { issuer: options.metadataIssuer ?? issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` };
    if (url.pathname === `${path}/.well-known/openid-configuration`) return json(200, metadata);
    if (url.pathname === `/.well-known/oauth-authorization-server${path}` && options.serveOAuthMetadata) return json(200, metadata);
    if (url.pathname === `${path}/jwks`) return json(200, { keys: state.published.map((key) => key.publicJwk) });
    return json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  issuer = `http://127.0.0.1:${port}${path}`;

  return {
    issuer,
    get keys() {
      return state.keys;
    },
    requests,
    count: (pathname) => requests[pathname] ?? 0,
    async newKey(alg = 'RS256', kid) {
      const key = await createFixtureKey(alg, kid);
      state.keys.push(key);
      return key;
    },
    publish(keys) {
      state.published = keys;
    },
    async sign(claims, signOptions = {}) {
      const key = signOptions.key ?? first;
      const header: Record<string, unknown> = { alg: key.alg, typ: 'JWT', kid: key.kid, ...signOptions.header };
      for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
      return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A settable clock in milliseconds, for the verifier's `now`. */
export function manualClock(start = Date.UTC(2030, 0, 1)): { now: () => number; advance(ms: number): void; seconds(): number } {
  let current = start;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
    seconds: () => Math.floor(current / 1000),
  };
}
