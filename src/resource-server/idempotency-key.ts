/**
 * Where a tool call's idempotency key comes from: the HTTP `Idempotency-Key` header
 * (draft-ietf-httpapi-idempotency-key-header, a Structured Field string; a bare value is
 * accepted too, as many clients send one) or `params._meta["idempotency-key"]` of the MCP
 * `tools/call` request, for agents that can set `_meta` but not headers.
 */
export const IDEMPOTENCY_KEY_META = 'idempotency-key';
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;

export class IdempotencyKeyError extends Error {
  override readonly name = 'IdempotencyKeyError';
}

/**
 * The key of one call, or undefined when the call carries none. Throws IdempotencyKeyError for
 * an invalid key, or when the header and `_meta` disagree.
 */
export function idempotencyKeyOf(header: string | undefined, meta: unknown): string | undefined {
  const fromHeader = header === undefined ? undefined : validKey(parseHeader(header), 'the Idempotency-Key header');
  const metaValue = meta && typeof meta === 'object' ? (meta as Record<string, unknown>)[IDEMPOTENCY_KEY_META] : undefined;
  if (metaValue !== undefined && typeof metaValue !== 'string') throw new IdempotencyKeyError(`_meta["${IDEMPOTENCY_KEY_META}"] must be a string`);
  const fromMeta = metaValue === undefined ? undefined : validKey(metaValue, `_meta["${IDEMPOTENCY_KEY_META}"]`);
  if (fromHeader !== undefined && fromMeta !== undefined && fromHeader !== fromMeta) {
    throw new IdempotencyKeyError(`the Idempotency-Key header and _meta["${IDEMPOTENCY_KEY_META}"] name different keys`);
  }
  return fromHeader ?? fromMeta;
}

function validKey(key: string, where: string): string {
  if (key.length === 0) throw new IdempotencyKeyError(`${where} is empty`);
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) throw new IdempotencyKeyError(`${where} is longer than ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  if (!PRINTABLE_ASCII.test(key)) throw new IdempotencyKeyError(`${where} may hold printable ASCII characters only`);
  return key;
}

/** A Structured Field string (`"abc"`, with `\"` and `\\` escapes), or the trimmed bare value. */
function parseHeader(header: string): string {
  const value = header.trim();
  if (!value.startsWith('"')) return value;
  let key = '';
  for (let index = 1; index < value.length; index++) {
    const char = value[index]!;
    if (char === '"') {
      if (index !== value.length - 1) break;
      return key;
    }
    if (char === '\\') {
      const escaped = value[++index];
      if (escaped !== '"' && escaped !== '\\') break;
      key += escaped;
    } else {
      key += char;
    }
  }
  throw new IdempotencyKeyError('the Idempotency-Key header is not a valid Structured Field string');
}
