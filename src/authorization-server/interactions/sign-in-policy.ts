import { interactionPolicy } from 'oidc-provider';
import { ACR_MFA, asksForSecondFactor } from '../accounts/sign-in-methods.ts';

/**
 * oidc-provider's prompts, plus one login check: a client that asks for a second factor with
 * `acr_values` (RFC 9470 step-up) gets a new sign-in unless this session already used one.
 */
export function signInPolicy(): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(new interactionPolicy.Check(
    'second_factor_requested', 'the client asked for a sign-in with a second factor',
    (ctx) => asksForSecondFactor(ctx.oidc.params?.acr_values) && ctx.oidc.acr !== ACR_MFA,
  ));
  return policy;
}
