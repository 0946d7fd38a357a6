import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/audit/canonical-json.ts';

/** Canonical JSON spelled out the slow way: what every value must serialise to, whichever path it takes. */
function reference(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${Array.from(value, (item) => reference(item ?? null)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value).sort().flatMap((key) => {
      const item = (value as Record<string, unknown>)[key];
      return item === undefined ? [] : [`${JSON.stringify(key)}:${reference(item)}`];
    });
    return `{${entries.join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

class Replaced {
  readonly x = 1;
  toJSON() {
    return 'replaced';
  }
}

class Point {
  readonly y = 2;
  readonly x = 1;
}

const VALUES: Record<string, unknown> = {
  'a token event built in key order': {
    client: 'bench-service', expires_at: 1764662400, grant_type: 'client_credentials', id_token_issued: false, jti: 'abc', refresh_token_issued: true,
    resource: ['https://a.example/', 'https://b.example/'], scopes: ['notes:read'], subject: undefined, type: 'token.issued',
  },
  'keys out of order, nested': { type: 'login.failed', client: 'c', nested: { z: 1, a: [{ b: 2, a: 1 }], m: null } },
  'integer-like keys, which objects list first and in numeric order': { 10: 'ten', 9: 'nine', a: 1 },
  'keys whose code-unit order differs from code-point order': { '\uFB01': 1, '\u{1F600}': 2, z: 3 },
  'arrays with holes and undefined': [1, , undefined, null, 'x'], // eslint-disable-line no-sparse-arrays
  'negative zero and fractions': { a: -0, b: 1.5e-7, c: 1e21 },
  'strings needing escapes': { 'k"ey': 'line\u2028sep\ud800lone', '\u0000': '\n' },
  'an object whose prototype has toJSON, which canonical JSON does not call': { a: new Replaced() },
  'a Date, an object without own keys': { when: new Date(0) },
  'a class instance': { point: new Point() },
  'an object without a prototype': { a: Object.assign(Object.create(null) as object, { z: 1, b: 2 }) },
  'a boxed string': { s: new String('ab') as unknown },
};

describe('canonical JSON', () => {
  for (const [name, value] of Object.entries(VALUES)) {
    it(`serialises ${name} with sorted keys and no whitespace`, () => {
      assert.equal(canonicalJson(value), reference(value));
    });
  }

  it('refuses what JSON cannot hold exactly, wherever it sits', () => {
    for (const value of [NaN, { a: Infinity }, [() => 1], { sorted: { f: () => 1 } }, { n: 1n }, { s: Symbol('x') }, undefined]) {
      assert.throws(() => canonicalJson(value), TypeError);
    }
  });
});
