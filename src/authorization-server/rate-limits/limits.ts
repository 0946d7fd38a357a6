import type { Store } from '../../storage/index.ts';
import { Limit, type RateLimit } from './index.ts';
import { LoginLockout, type LockoutPolicy } from './login-lockout.ts';

export interface RateLimitSettings {
  registrationPerAddress: RateLimit;
  tokenPerAddress: RateLimit;
  tokenPerClient: RateLimit;
  loginFailuresPerAddress: RateLimit;
  loginLockout: LockoutPolicy;
}

/** Every limit of the authorization server, all counted in the Store (shared by instances). */
export interface RateLimits {
  registrationPerAddress: Limit;
  tokenPerAddress: Limit;
  tokenPerClient: Limit;
  loginFailuresPerAddress: Limit;
  loginLockout: LoginLockout;
}

/** `onRefused` hears the name of each limit that refuses a request (for metrics). */
export function createRateLimits(store: Store, settings: RateLimitSettings, onRefused?: (limit: string) => void): RateLimits {
  return {
    registrationPerAddress: new Limit(store, 'registration', settings.registrationPerAddress, onRefused),
    tokenPerAddress: new Limit(store, 'token-address', settings.tokenPerAddress, onRefused),
    tokenPerClient: new Limit(store, 'token-client', settings.tokenPerClient, onRefused),
    loginFailuresPerAddress: new Limit(store, 'login-address', settings.loginFailuresPerAddress, onRefused),
    loginLockout: new LoginLockout(store, settings.loginLockout, onRefused),
  };
}
