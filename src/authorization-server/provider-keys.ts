import type Provider from 'oidc-provider';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';

/**
 * oidc-provider reads `jwks` once, in its constructor, and has no public way to change it (its
 * maintainer's advice is a restart). Calling its own initializer again validates the set the same
 * way and swaps both the signing keystore and the served JWKS in one synchronous step, so each
 * request sees the old set or the new one, never a mix. Interaction routes, hooks and listeners
 * keep the same Provider. test/e2e/live-signing-keys.test.ts fails if an upgrade moves this.
 */
export function replaceSigningKeys(provider: Provider, jwks: { keys: object[] }): void {
  initializeKeystore.call(provider, jwks);
}
