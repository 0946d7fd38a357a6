import type { Logger } from '../log/index.ts';
import type { KeyRing } from './keyring.ts';
import type { SigningKeys } from './service.ts';

/** How often a running server looks for a rotation or retirement made elsewhere. */
export const KEY_RING_POLL_MS = 5000;

/**
 * Calls `apply` with the new ring whenever the signer or the published set changes: a rotation or
 * retirement by another instance or the CLI, or a `next` key's time coming. A failed look keeps
 * the ring in use and is retried next round.
 */
export function watchKeyRing(keys: SigningKeys, initial: KeyRing, apply: (ring: KeyRing) => void, log: Logger, intervalMs = KEY_RING_POLL_MS): { stop(): void } {
  if (keys.fixed) return { stop: () => {} };
  let applied = shape(initial);
  let running = false;
  const look = async () => {
    if (running) return;
    running = true;
    try {
      const listed = (await keys.list()).filter((key) => key.status !== 'retired');
      const seen = JSON.stringify(listed.map((key) => key.kid).sort().map((kid) => [kid, listed.find((key) => key.kid === kid)!.status === 'signing']));
      if (seen === applied) return;
      const ring = await keys.ring();
      apply(ring);
      applied = shape(ring);
      log.info({ kid: ring.signingKid, published: ring.publicJwks().keys.map((jwk) => jwk.kid) }, `signing keys changed: kid=${ring.signingKid} signs`);
    } catch (error) {
      log.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'signing keys not reloaded; will retry');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void look(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** Kids in sorted order with which one signs, so an unchanged ring compares equal to its listing. */
function shape(ring: KeyRing): string {
  return JSON.stringify(ring.publicJwks().keys.map((jwk) => jwk.kid).sort().map((kid) => [kid, kid === ring.signingKid]));
}
