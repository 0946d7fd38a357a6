import type { Config } from '../../config/index.ts';
import { valueOf, type Live } from '../../settings/index.ts';

/** Who must sign in with a second factor. */
export type SecondFactorRule = { kind: 'everyone' } | { kind: 'roles'; roles: string[] };

/** SECOND_FACTOR_REQUIRED, or by default the roles that approve and administer, in production only. */
export function secondFactorRule(config: Pick<Config, 'secondFactorRequired' | 'nodeEnv'>): SecondFactorRule {
  const setting = config.secondFactorRequired ?? (config.nodeEnv === 'production' ? ['admin', 'approver'] : []);
  if (setting.includes('everyone')) return { kind: 'everyone' };
  return { kind: 'roles', roles: setting.filter((entry) => entry !== 'none') };
}

/** `rule` may be live (the console changes SECOND_FACTOR_REQUIRED while the server runs). */
export function secondFactorRequired(live: Live<SecondFactorRule>, roles: readonly string[]): boolean {
  const rule = valueOf(live);
  return rule.kind === 'everyone' || rule.roles.some((role) => roles.includes(role));
}
