/**
 * (5) The machine's raw RSA-2048 rate with RS256 (PKCS#1 v1.5, SHA-256), one core, node:crypto
 * on a JWT-sized input: every issued access token costs one signature, and every new token a
 * resource server sees costs one verification, so these are the ceilings for (1) and (3).
 * Run alone: ./node_modules/.bin/node bench/rsa-ceiling.ts
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { formatOps, measure, type Measurement } from './support/timing.ts';

export interface RsaCeilingResult {
  sign: Measurement;
  verify: Measurement;
  /** Verifications per signature. */
  verifyVsSign: number;
}

export async function runRsaCeilingBench(options: { signs?: number; verifies?: number; print?: boolean } = {}): Promise<RsaCeilingResult> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // A typical access token's signing input: base64url(header).base64url(payload), ~500 bytes.
  const input = Buffer.from(`${'h'.repeat(100)}.${'p'.repeat(400)}`);
  const signature = sign('sha256', input, privateKey);
  for (let index = 0; index < 200; index += 1) verify('sha256', input, publicKey, sign('sha256', input, privateKey));

  const signed = await measure(options.signs ?? 2000, async () => sign('sha256', input, privateKey));
  const verified = await measure(options.verifies ?? 20_000, async () => {
    if (!verify('sha256', input, publicKey, signature)) throw new Error('signature did not verify');
  });
  const result: RsaCeilingResult = { sign: signed, verify: verified, verifyVsSign: Number((verified.opsPerSecond / signed.opsPerSecond).toFixed(1)) };
  if (options.print ?? true) {
    console.log('(5) RSA-2048 RS256 on one core (node:crypto), the ceiling');
    console.log(`    sign   ${formatOps(signed.opsPerSecond)} ops/s  ${signed.microsecondsPerOp.toFixed(1).padStart(8)} µs/op  (n=${signed.operations})`);
    console.log(`    verify ${formatOps(verified.opsPerSecond)} ops/s  ${verified.microsecondsPerOp.toFixed(1).padStart(8)} µs/op  (n=${verified.operations})`);
    console.log(`    verify / sign = ${result.verifyVsSign}`);
  }
  return result;
}

if (import.meta.main) await runRsaCeilingBench();
