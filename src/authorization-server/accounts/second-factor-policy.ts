import type { Config } from '../../config/index.ts';

/** Who must sign in with a second factor. */
export type SecondFactorRule = { kind: 'everyone' } | { kind: 'roles'; roles: string[] };

/** SECOND_FACTOR_REQUIRED, or by default the roles that approve and administer, in production only. */
export function secondFactorRule(config: Pick<Config, 'secondFactorRequired' | 'nodeEnv'>): SecondFactorRule {
  const setting = config.secondFactorRequired ?? (config.nodeEnv === 'production' ? ['admin', 'approver'] : []);
  if (setting.includes('everyone')) return { kind: 'everyone' };
  return { kind: 'roles', roles: setting.filter((entry) => entry !== 'none') };
}

export function secondFactorRequired(rule: SecondFactorRule, roles: readonly string[]): boolean {
  return rule.kind === 'everyone' || rule.roles.some((role) => roles.includes(role));
}
