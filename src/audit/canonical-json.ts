/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace,
 * numbers and strings as ECMAScript serialises them. The same value always gives the same bytes,
 * so hashes over it are reproducible by anyone.
 */
export function canonicalJson(value: unknown): string {
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
  for (let index = 0; index < items.length; index += 1) json += `${index === 0 ? '' : ','}${canonicalJson(items[index] ?? null)}`;
  return `${json}]`;
}

/** Default sort order is by UTF-16 code units, as canonical JSON wants. */
function canonicalObject(object: Record<string, unknown>): string {
  let json = '{';
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item !== undefined) json += `${json.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${json}}`;
}
