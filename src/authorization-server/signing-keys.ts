import type { Config } from '../config/index.ts';
import { SigningKeys } from '../keys/index.ts';
import { usesRedis, type Store } from '../storage/index.ts';

/**
 * The signing-key service for this configuration, for the server and the CLI alike: with Redis
 * the ring lives in the Store (every instance reads it), otherwise in KEYS_DIR.
 */
export function openSigningKeys(config: Config, store: Store, cookieKeys: readonly string[]): Promise<SigningKeys> {
  return SigningKeys.open({
    pem: config.rsaPrivateKeyPem,
    secretPath: config.rsaPrivateKeyPath,
    keysDir: config.keysDir,
    shared: usesRedis(config) ? { store, cookieKeys } : undefined,
    activationDelaySeconds: config.keyActivationDelaySeconds,
    tokenLifetimeSeconds: longestAccessTokenLifetime(config),
  });
}

/** A retired key's tokens fail at once, so retiring waits out the longest lifetime any resource gives. */
function longestAccessTokenLifetime(config: Pick<Config, 'accessTokenTtlSeconds' | 'resources'>): number {
  return Math.max(config.accessTokenTtlSeconds, ...config.resources.map((resource) => resource.accessTokenTtlSeconds ?? 0));
}
