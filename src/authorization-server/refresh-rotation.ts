import Provider from 'oidc-provider';

/**
 * oidc-provider rotates a refresh token in two adapter calls: `consume` of the old token, then
 * `upsert` of the new one, with nothing in between that reads the store. Within a refresh_token
 * grant the adapter remembers the consume and carries it out with the new token's write
 * (Store.consumeAndPut): one write instead of two (one disk flush on the embedded engine, one
 * round trip on Redis), and no crash leaves the old token spent without the new one stored, or
 * both usable. Of two requests rotating the same token, the second's write finds it consumed and
 * writes nothing.
 */
type Rotation = { consumedKey: string; outcome?: 'written' | 'lost' };

const rotations = new WeakMap<object, Rotation>();

/** The current request when it is a refresh_token grant at the token endpoint. */
export function refreshGrantContext(): object | undefined {
  const ctx = Provider.ctx;
  return ctx?.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token' ? ctx : undefined;
}

/** In a refresh_token grant, keeps the consume of `consumedKey` for the new token's write; false elsewhere. */
export function deferConsume(consumedKey: string): boolean {
  const ctx = refreshGrantContext();
  if (!ctx) return false;
  rotations.set(ctx, { consumedKey });
  return true;
}

/**
 * The consume this request deferred, for the new token's write; `done` records whether that
 * write happened (it does nothing when the old token was consumed in the meantime).
 */
export function deferredConsume(): { consumedKey: string; done(written: boolean): void } | undefined {
  const ctx = refreshGrantContext();
  const rotation = ctx && rotations.get(ctx);
  if (!rotation || rotation.outcome) return undefined;
  return { consumedKey: rotation.consumedKey, done: (written) => { rotation.outcome = written ? 'written' : 'lost'; } };
}

/**
 * True when this request's rotation found the old token already spent by another request: it
 * wrote nothing, and restoring the old token would undo the other request's rotation. A write
 * whose outcome is unknown (the store failed while answering) is not lost: it may have happened.
 */
export function rotationLost(ctx: object): boolean {
  return rotations.get(ctx)?.outcome === 'lost';
}
