/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace,
 * numbers and strings as ECMAScript serialises them. The same value always gives the same bytes,
 * so hashes over it are reproducible by anyone.
 */
export function canonicalJson(value: unknown): string {
  // Every issued token's event is built in key order, and native JSON.stringify costs a fraction of the walk below.
  return stringifiesCanonically(value) ? JSON.stringify(value) : canonicalValue(value);
}

/**
 * Whether JSON.stringify gives the canonical bytes as they are: plain objects whose keys already come
 * in sorted order (in which JSON.stringify lists them), arrays, finite numbers, strings, booleans,
 * null. Anything it would treat differently (toJSON, class instances, NaN, functions) goes the long way.
 */
function stringifiesCanonically(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      if (value === null) return true;
      return Array.isArray(value) ? arrayStringifiesCanonically(value) : objectStringifiesCanonically(value);
    default:
      return false;
  }
}

function arrayStringifiesCanonically(items: readonly unknown[]): boolean {
  if (Object.getPrototypeOf(items) !== Array.prototype || 'toJSON' in items) return false;
  for (const item of items) if (item !== undefined && !stringifiesCanonically(item)) return false;
  return true;
}

function objectStringifiesCanonically(object: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(object);
  if ((prototype !== Object.prototype && prototype !== null) || 'toJSON' in object) return false;
  const keys = Object.keys(object);
  for (let index = 0; index < keys.length; index += 1) {
    if (index > 0 && keys[index - 1]! >= keys[index]!) return false;
    const item = (object as Record<string, unknown>)[keys[index]!];
    if (item !== undefined && !stringifiesCanonically(item)) return false;
  }
  return true;
}

function canonicalValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value as Record<string, unknown>);
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}

function canonicalArray(items: readonly unknown[]): string {
  let json = '[';
  for (let index = 0; index < items.length; index += 1) json += `${index === 0 ? '' : ','}${canonicalValue(items[index] ?? null)}`;
  return `${json}]`;
}

/** Default sort order is by UTF-16 code units, as canonical JSON wants. */
function canonicalObject(object: Record<string, unknown>): string {
  let json = '{';
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item !== undefined) json += `${json.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalValue(item)}`;
  }
  return `${json}}`;
}
