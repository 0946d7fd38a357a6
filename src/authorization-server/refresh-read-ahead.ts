import { refreshGrantContext } from './refresh-rotation.ts';

/**
 * A refresh_token grant reads its grant, its account and any step-up signal one after another,
 * though each needs only what the refresh token names. Once the token is found, those reads start
 * together (three round trips to Redis become one wait); each is then taken, once, where it would
 * have been made. Outside a refresh grant nothing is read ahead.
 */
const reads = new WeakMap<object, Map<string, Promise<unknown>>>();

export function readAhead(name: string, read: () => Promise<unknown>): void {
  const ctx = refreshGrantContext();
  if (!ctx) return;
  const pending = read();
  pending.catch(() => {}); // reported where it is taken; one never taken is not an unhandled rejection
  let ofRequest = reads.get(ctx);
  if (!ofRequest) reads.set(ctx, (ofRequest = new Map()));
  ofRequest.set(name, pending);
}

/** The read started under `name` for this request, if any; a second take gets undefined. */
export function takeReadAhead<T>(name: string): Promise<T> | undefined {
  const ctx = refreshGrantContext();
  const ofRequest = ctx && reads.get(ctx);
  const pending = ofRequest?.get(name);
  ofRequest?.delete(name);
  return pending as Promise<T> | undefined;
}
