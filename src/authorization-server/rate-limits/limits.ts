import { valueOf, type Live, type SettingValues } from '../../settings/index.ts';
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

/** `onRefused` hears the name of each limit that refuses a request (for metrics). Live settings are read at each request. */
export function createRateLimits(store: Store, settings: Live<RateLimitSettings>, onRefused?: (limit: string) => void): RateLimits {
  const read = () => valueOf(settings);
  return {
    registrationPerAddress: new Limit(store, 'registration', () => read().registrationPerAddress, onRefused),
    tokenPerAddress: new Limit(store, 'token-address', () => read().tokenPerAddress, onRefused),
    tokenPerClient: new Limit(store, 'token-client', () => read().tokenPerClient, onRefused),
    loginFailuresPerAddress: new Limit(store, 'login-address', () => read().loginFailuresPerAddress, onRefused),
    loginLockout: new LoginLockout(store, () => read().loginLockout, onRefused),
  };
}

/** The limits as the settings give them. */
export function rateLimitSettings(values: Pick<SettingValues, 'registrationRateLimit' | 'registrationRateLimitWindowSeconds' | 'tokenRateLimitPerAddress'
  | 'tokenRateLimitPerClient' | 'tokenRateLimitWindowSeconds' | 'loginFailureLimitPerAddress' | 'loginFailureLimitWindowSeconds'
  | 'loginLockoutThreshold' | 'loginLockoutBaseSeconds' | 'loginLockoutMaxSeconds'>): RateLimitSettings {
  return {
    registrationPerAddress: { max: values.registrationRateLimit, windowSeconds: values.registrationRateLimitWindowSeconds },
    tokenPerAddress: { max: values.tokenRateLimitPerAddress, windowSeconds: values.tokenRateLimitWindowSeconds },
    tokenPerClient: { max: values.tokenRateLimitPerClient, windowSeconds: values.tokenRateLimitWindowSeconds },
    loginFailuresPerAddress: { max: values.loginFailureLimitPerAddress, windowSeconds: values.loginFailureLimitWindowSeconds },
    loginLockout: { threshold: values.loginLockoutThreshold, baseSeconds: values.loginLockoutBaseSeconds, maxSeconds: values.loginLockoutMaxSeconds },
  };
}
