/** Exactly-once write tools: the options an MCP endpoint takes and the names on the wire. */
export type { IdempotencyOptions } from '../idempotency.ts';
export { IDEMPOTENCY_KEY_META, MAX_IDEMPOTENCY_KEY_LENGTH } from '../idempotency-key.ts';
export { REPLAYED_HEADER, REPLAYED_META } from '../idempotent-calls.ts';
