/**
 * Access-token verification speed, in one process:
 *   (a) jose.jwtVerify with a pre-imported key, one fresh token each time (the floor: one RSA verify);
 *   (b) our verifier on fresh tokens (first verification: header checks, key lookup, RSA verify,
 *       claim checks, cache insert);
 *   (c) our verifier on a repeated token (cache hit: SHA-256 + LRU lookup + scope check).
 * Discovery, the JWKS fetch (served from memory by an injected fetch) and the key import happen
 * during the warm-up, so (b) is the steady state of a verifier seeing new tokens.
 * Run: ./node_modules/.bin/node bench/verify.ts [tokens] [repeats]
 */
import { jwtVerify } from 'jose';
import { createTokenVerifier } from '../src/resource-server/index.ts';
import { createInMemoryIssuer } from './support/in-memory-issuer.ts';
import { combine, formatOps, measure, type Measurement } from './support/timing.ts';

export interface VerifyBenchOptions {
  /** Distinct tokens signed for (a) and (b); default 2000. */
  tokens?: number;
  /** Verifications of one token for (c); default 200 000. */
  repeats?: number;
  /** Print the table (default true). */
  print?: boolean;
}

export interface VerifyBenchResult {
  joseJwtVerify: Measurement;
  verifierFresh: Measurement;
  verifierCached: Measurement;
  /** (b)/(a) in ops/s: below 1 means our first verification is slower than bare jose. */
  freshVsJose: number;
  /** (c)/(a) in ops/s: how many times faster a cache hit is than a bare jose verification. */
  cachedVsJose: number;
  jwksRequests: number;
}

const RESOURCE = 'https://mcp.bench.example/mcp';

export async function runVerifyBench(options: VerifyBenchOptions = {}): Promise<VerifyBenchResult> {
  const count = options.tokens ?? 2000;
  const repeats = options.repeats ?? 200_000;
  const idp = await createInMemoryIssuer();
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const claims = (index: number) => ({ iss: idp.issuer, aud: RESOURCE, sub: `user-${index}`, client_id: 'bench-client', scope: 'notes:read notes:write', exp, iat: exp - 3600, jti: `jti-${index}` });

  const tokens: string[] = [];
  for (let index = 0; index < count; index += 1) tokens.push(await idp.sign(claims(index)));
  const warmup: string[] = [];
  for (let index = 0; index < 200; index += 1) warmup.push(await idp.sign(claims(count + index)));

  const joseOptions = { issuer: idp.issuer, audience: RESOURCE, algorithms: ['RS256'], typ: 'at+jwt', clockTolerance: 30 };
  const verifier = createTokenVerifier({ issuer: idp.issuer, resource: RESOURCE, fetch: idp.fetch });
  const required = { requiredScopes: ['notes:read'] };
  for (const token of warmup) {
    await jwtVerify(token, idp.publicKey, joseOptions);
    await verifier.verify(token, required);
  }

  // (a) and (b) take turns on the same chunks of tokens (each token is new to the verifier),
  // alternating which goes first, so drift in CPU speed or load hits both alike.
  const joseRuns: Measurement[] = [];
  const freshRuns: Measurement[] = [];
  const chunk = 100;
  for (let offset = 0, round = 0; offset < count; offset += chunk, round += 1) {
    const slice = tokens.slice(offset, offset + chunk);
    const runJose = async () => joseRuns.push(await measure(slice.length, (index) => jwtVerify(slice[index]!, idp.publicKey, joseOptions)));
    const runFresh = async () => freshRuns.push(await measure(slice.length, (index) => verifier.verify(slice[index]!, required)));
    if (round % 2 === 0) {
      await runJose();
      await runFresh();
    } else {
      await runFresh();
      await runJose();
    }
  }
  const joseJwtVerify = combine(joseRuns);
  const verifierFresh = combine(freshRuns);

  const repeated = tokens[0]!;
  for (let index = 0; index < 10_000; index += 1) await verifier.verify(repeated, required);
  const verifierCached = await measure(repeats, () => verifier.verify(repeated, required));

  const result: VerifyBenchResult = {
    joseJwtVerify,
    verifierFresh,
    verifierCached,
    freshVsJose: verifierFresh.opsPerSecond / joseJwtVerify.opsPerSecond,
    cachedVsJose: verifierCached.opsPerSecond / joseJwtVerify.opsPerSecond,
    jwksRequests: idp.requests,
  };

  if (options.print ?? true) {
    const row = (label: string, m: Measurement) => console.log(`${label.padEnd(44)}${formatOps(m.opsPerSecond)} ops/s  ${m.microsecondsPerOp.toFixed(2).padStart(9)} µs/op  (n=${m.operations})`);
    console.log(`token verification, RS256 2048-bit, ${count} distinct tokens, Node ${process.version}`);
    row('(a) jose.jwtVerify, pre-imported key', joseJwtVerify);
    row('(b) verifier, first verification', verifierFresh);
    row('(c) verifier, repeated token (cache hit)', verifierCached);
    console.log(`(b)/(a) = ${result.freshVsJose.toFixed(2)}   (c)/(a) = ${result.cachedVsJose.toFixed(1)}   metadata+JWKS requests: ${result.jwksRequests}`);
  }
  return result;
}

if (import.meta.main) {
  const [tokens, repeats] = process.argv.slice(2).map(Number);
  await runVerifyBench({ tokens: tokens || undefined, repeats: repeats || undefined });
}
