import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkInclusionProof, proveInclusion, ProofError, verifierKey, type InclusionProof } from '../../src/audit/index.ts';
import { loginEvent, ORIGIN, testLog } from './support.ts';

/**
 * What a third party runs, written from RFC 9162 §2.1.3.2 and the C2SP signed-note spec with
 * node:crypto only: nothing from src/audit.
 */
function independentCheck(proof: InclusionProof, verifierKeyText: string): boolean {
  const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
  const [name, , ...keyParts] = verifierKeyText.split('+');
  const encodedKey = keyParts.join('+');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(encodedKey, 'base64').subarray(1).toString('base64url') }, format: 'jwk' });
  const [body, signatures] = proof.checkpoint.split('\n\n');
  const signatureLine = signatures!.split('\n').find((line) => line.startsWith(`\u2014 ${name} `))!;
  const signature = Buffer.from(signatureLine.split(' ')[2]!, 'base64').subarray(4);
  if (!verify(null, Buffer.from(`${body}\n`), publicKey, signature)) return false;
  const [, size, root] = body!.split('\n');
  if (Number(size) !== proof.tree_size) return false;
  let fn = proof.seq;
  let sn = proof.tree_size - 1;
  let hash = sha256(Buffer.of(0), Buffer.from(proof.leaf_data));
  for (const encoded of proof.inclusion_path) {
    const sibling = Buffer.from(encoded, 'base64');
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      hash = sha256(Buffer.of(1), sibling, hash);
      while (fn % 2 === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      hash = sha256(Buffer.of(1), hash, sibling);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && hash.toString('base64') === root;
}

describe('audit inclusion proofs', () => {
  test('prove every record of a 13-record log against its checkpoint, checkable without this code', async () => {
    const fixture = await testLog({ segmentMaxRecords: 4 });
    const log = await fixture.open();
    for (let index = 0; index < 13; index += 1) await log.append(loginEvent(index));
    await log.close();
    const key = verifierKey(ORIGIN, createPublicKey(fixture.key));
    for (let seq = 0; seq < 13; seq += 1) {
      const proof = await proveInclusion(fixture.dir, seq);
      assert.equal(proof.tree_size, 13);
      assert.equal(JSON.parse(proof.leaf_data).event.subject, `user-${seq}`);
      checkInclusionProof(proof, key);
      assert.equal(independentCheck(proof, key), true, `seq ${seq}`);
    }
  });

  test('a proof whose record was changed does not check', async () => {
    const fixture = await testLog();
    const log = await fixture.open();
    for (let index = 0; index < 5; index += 1) await log.append(loginEvent(index));
    await log.close();
    const key = verifierKey(ORIGIN, createPublicKey(fixture.key));
    const proof = await proveInclusion(fixture.dir, 3);
    const forged = { ...proof, leaf_data: proof.leaf_data.replace('user-3', 'user-9') };
    assert.throws(() => checkInclusionProof(forged, key), ProofError);
    assert.equal(independentCheck(forged, key), false);
    await assert.rejects(proveInclusion(fixture.dir, 5), /no checkpoint covers seq 5/);
  });
});
