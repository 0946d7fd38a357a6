import type { Config } from '../config/index.ts';

/** The settings an operator may change while the server runs (console, CLI, import). Config field names. */
export const SETTING_NAMES = [
  'registration', 'registrationRateLimit', 'registrationRateLimitWindowSeconds',
  'tokenRateLimitPerAddress', 'tokenRateLimitPerClient', 'tokenRateLimitWindowSeconds',
  'loginFailureLimitPerAddress', 'loginFailureLimitWindowSeconds',
  'loginLockoutThreshold', 'loginLockoutBaseSeconds', 'loginLockoutMaxSeconds',
  'cimd', 'cimdAllowedHosts', 'cimdMaxBytes', 'cimdCacheMinSeconds', 'cimdCacheMaxSeconds',
  'accessTokenTtlSeconds', 'refreshTokenTtlSeconds', 'sessionTtlSeconds', 'sessionIdleSeconds',
  'breakGlassPerUserPerDay', 'breakGlassPerHour',
  'secondFactorRequired',
] as const;

export type SettingName = typeof SETTING_NAMES[number];

/** Live values; `secondFactorRequired` has its default resolved (["none"] when nobody must). */
export type SettingValues = Omit<Pick<Config, SettingName>, 'secondFactorRequired'> & { secondFactorRequired: string[] };

export interface SettingInfo {
  group: string;
  /** Plain words for the console and the CLI. */
  label: string;
  /** How a list is written, where the schema's own limits say too little. */
  allowed?: string;
}

export const SETTING_INFO: Record<SettingName, SettingInfo> = {
  registration: { group: 'Client registration', label: 'Who may register an application (open, with an invitation token, or nobody)' },
  registrationRateLimit: { group: 'Client registration', label: 'Registrations per address in a window' },
  registrationRateLimitWindowSeconds: { group: 'Client registration', label: 'Registration window, in seconds' },
  tokenRateLimitPerAddress: { group: 'Rate limits', label: 'Token requests per address in a window' },
  tokenRateLimitPerClient: { group: 'Rate limits', label: 'Tokens issued per application in a window' },
  tokenRateLimitWindowSeconds: { group: 'Rate limits', label: 'Token window, in seconds' },
  loginFailureLimitPerAddress: { group: 'Rate limits', label: 'Failed sign-ins per address in a window' },
  loginFailureLimitWindowSeconds: { group: 'Rate limits', label: 'Failed sign-in window, in seconds' },
  loginLockoutThreshold: { group: 'Sign-in lockout', label: 'Wrong passwords in a row before sign-in pauses' },
  loginLockoutBaseSeconds: { group: 'Sign-in lockout', label: 'First pause, in seconds (doubles each time)' },
  loginLockoutMaxSeconds: { group: 'Sign-in lockout', label: 'Longest pause, in seconds' },
  cimd: { group: 'Applications introduced by URL', label: 'Applications may introduce themselves with a metadata document URL' },
  cimdAllowedHosts: {
    group: 'Applications introduced by URL', label: 'Hosts allowed to serve such documents (empty: any public host)',
    allowed: 'host names such as chatgpt.com or *.example.com, separated by commas or spaces; empty for any public host',
  },
  cimdMaxBytes: { group: 'Applications introduced by URL', label: 'Largest document, in bytes' },
  cimdCacheMinSeconds: { group: 'Applications introduced by URL', label: 'Keep a fetched document at least, in seconds' },
  cimdCacheMaxSeconds: { group: 'Applications introduced by URL', label: 'Keep a fetched document at most, in seconds' },
  accessTokenTtlSeconds: { group: 'Lifetimes', label: 'Access token lifetime, in seconds (unless the resource sets its own)' },
  refreshTokenTtlSeconds: { group: 'Lifetimes', label: 'Refresh token lifetime, in seconds' },
  sessionTtlSeconds: { group: 'Lifetimes', label: 'Longest sign-in however active, in seconds' },
  sessionIdleSeconds: { group: 'Lifetimes', label: 'Sign-in ends after this many idle seconds' },
  breakGlassPerUserPerDay: { group: 'Break-glass', label: 'Break-glass elevations per user in 24 hours' },
  breakGlassPerHour: { group: 'Break-glass', label: 'Break-glass elevations across all users per hour' },
  secondFactorRequired: {
    group: 'Second factor', label: 'Who must sign in with a second factor',
    allowed: 'everyone, none, or role names such as admin,approver',
  },
};
