import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export interface InMemoryIssuer {
  issuer: string;
  kid: string;
  publicKey: CryptoKey;
  /** A fetch that answers discovery and the JWKS from memory, and counts requests. */
  fetch: typeof fetch;
  requests: number;
  sign(claims: JWTPayload): Promise<string>;
}

/** An RS256 issuer without a network: its metadata and JWKS are served by an injected fetch. */
export async function createInMemoryIssuer(issuer = 'https://issuer.bench.example'): Promise<InMemoryIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'bench-key-1';
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
  const documents = new Map<string, unknown>([
    [`${issuer}/.well-known/oauth-authorization-server`, { issuer, jwks_uri: `${issuer}/jwks` }],
    [`${issuer}/jwks`, jwks],
  ]);
  const state: InMemoryIssuer = {
    issuer,
    kid,
    publicKey,
    requests: 0,
    fetch: (async (input: Parameters<typeof fetch>[0]) => {
      state.requests += 1;
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const body = documents.get(url);
      return body === undefined
        ? new Response('{"error":"not_found"}', { status: 404, headers: { 'content-type': 'application/json' } })
        : new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(privateKey),
  };
  return state;
}
