import { StoreUnavailableError, type IncrementOptions, type PutOptions, type StoredRecord } from './store.ts';

// What both engines do the same way: check and serialise caller input, shape records, name outages.

/** Caller input shared by the engines: a record ready to store (JSON text, TTL in ms, distinct tags). */
export interface NewRow {
  value: string;
  ttlMs: number | null;
  tags: string[];
}

/** Validates and serialises outside the database call, so caller mistakes are not reported as outages. */
export function toRow(value: unknown, { ttlSeconds, tags = [] }: PutOptions): NewRow {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('Store values must be JSON-serialisable');
  if (ttlSeconds !== undefined && !(Number.isFinite(ttlSeconds) && ttlSeconds >= 0)) {
    throw new RangeError(`ttlSeconds must be a non-negative number, got ${ttlSeconds}`);
  }
  return { value: json, ttlMs: ttlSeconds ? ttlSeconds * 1000 : null, tags: [...new Set(tags)] };
}

export function checkIncrement({ ttlSeconds, by = 1 }: IncrementOptions): { by: number; ttlMs: number } {
  if (!(Number.isFinite(ttlSeconds) && ttlSeconds > 0)) throw new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`);
  if (!(Number.isSafeInteger(by) && by > 0)) throw new RangeError(`by must be a positive whole number, got ${by}`);
  return { by, ttlMs: Math.ceil(ttlSeconds * 1000) };
}

/** A record as callers see it, from the JSON text and the engine's epoch-millisecond marks. */
export function storedRecord<T>(json: string, consumedAtMs: number | null, expiresAtMs: number | null): StoredRecord<T> {
  const record: StoredRecord<T> = { value: JSON.parse(json) as T };
  if (consumedAtMs !== null) record.consumedAt = Math.floor(consumedAtMs / 1000);
  // Rounded up: at and after this second the record is certainly gone.
  if (expiresAtMs !== null) record.expiresAt = Math.ceil(expiresAtMs / 1000);
  return record;
}

/** One line naming the engine and its setting (never credentials), for logs and start-up errors. */
export function unavailable(engine: string, where: string, what: string, cause?: unknown): StoreUnavailableError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  const message = `${engine} store unavailable (${where}): ${what}${reason}`;
  return new StoreUnavailableError(message.replace(/\s*[\r\n]+\s*/g, ' '));
}
