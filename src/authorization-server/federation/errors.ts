/** Why a company sign-in ended without signing anyone in; each has its own plain-words page. */
export type FederationFailure =
  | 'unknown_provider'
  | 'upstream_unreachable'
  | 'upstream_refused'
  | 'state_unknown'
  | 'state_mismatch'
  | 'state_used'
  | 'code_rejected'
  | 'id_token_invalid'
  | 'email_unverified'
  | 'email_domain'
  | 'not_provisioned'
  | 'account_disabled';

const MESSAGES: Record<FederationFailure, string> = {
  unknown_provider: 'This sign-in option does not exist.',
  upstream_unreachable: 'Your company sign-in service could not be reached. Try again in a few minutes.',
  upstream_refused: 'Your company sign-in service did not sign you in.',
  state_unknown: 'This sign-in link is not known here or has expired. Start again from the application.',
  state_mismatch: 'This sign-in link belongs to another sign-in attempt. Start again from the application.',
  state_used: 'This sign-in link was already used. Start again from the application.',
  code_rejected: 'Your company sign-in service refused to confirm this sign-in. Start again from the application.',
  id_token_invalid: 'The answer from your company sign-in service could not be verified, so you were not signed in.',
  email_unverified: 'Your company account\'s email address is not verified, so you cannot sign in with it here.',
  email_domain: 'Your email address is not in a domain allowed to sign in here.',
  not_provisioned: 'There is no account here for your company identity. Ask the administrator to create one for you.',
  account_disabled: 'Your account here is disabled. Ask the administrator.',
};

export class FederationError extends Error {
  override readonly name = 'FederationError';
  readonly reason: FederationFailure;
  /** For the log and the audit trail only; never shown. */
  readonly detail: string | undefined;
  constructor(reason: FederationFailure, detail?: string) {
    super(MESSAGES[reason]);
    this.reason = reason;
    this.detail = detail;
  }

  /** 502 when the company's service failed us, 403 when it said no to this person, 400 for a bad link. */
  get status(): number {
    if (this.reason === 'upstream_unreachable') return 502;
    if (this.reason.startsWith('state_') || this.reason === 'unknown_provider') return 400;
    return 403;
  }
}
