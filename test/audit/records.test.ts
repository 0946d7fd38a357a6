import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/audit/canonical-json.ts';
import { leafHash, toBinaryHash, toHash } from '../../src/audit/merkle.ts';
import { b64, parseRecord, recordLeaf, recordWriter } from '../../src/audit/records.ts';

describe('audit records written on the fast path', () => {
  it('are byte for byte the canonical JSON of the record, with the same leaf hash', () => {
    const event = { type: 'token.issued' as const, client: 'c"lient\u2028', scopes: ['b', 'a'], nested: { z: 1, a: null, skipped: undefined }, n: 1.5 };
    const [root, first, second] = [leafHash('root'), leafHash('one'), leafHash('two')];
    for (const prev of [undefined, [first, second]]) {
      const writer = recordWriter(41, '2026-12-02T00:00:00.000Z', event);
      const line = writer.line(writer.leaf, toBinaryHash(root), prev?.map(toBinaryHash));
      const record = { seq: 41, time: '2026-12-02T00:00:00.000Z', event, leaf: b64(toHash(writer.leaf)), root: b64(root), ...(prev ? { prev: prev.map(b64) } : {}) };
      assert.equal(line, canonicalJson(record));
      assert.ok(toHash(writer.leaf).equals(recordLeaf(record)));
      assert.ok(parseRecord(line), 'the verifier reads it back as a canonical record');
    }
  });
});
