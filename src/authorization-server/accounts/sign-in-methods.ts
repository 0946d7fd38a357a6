/** Authentication context classes (`acr`) Portcullis issues: a password alone, or with a second factor. */
export const ACR_PASSWORD = 'urn:portcullis:acr:password';
export const ACR_MFA = 'urn:portcullis:acr:mfa';
export const ACR_VALUES = [ACR_PASSWORD, ACR_MFA];

export type SecondFactorMethod = 'totp' | 'recovery' | 'passkey';

/** RFC 8176 `amr` values for how the user signed in: pwd, plus otp or hwk/user and mfa with a second factor. */
export function signInFacts(method?: SecondFactorMethod): { amr: string[]; acr: string } {
  if (method === undefined) return { amr: ['pwd'], acr: ACR_PASSWORD };
  const second = method === 'passkey' ? ['hwk', 'user'] : ['otp'];
  return { amr: ['pwd', ...second, 'mfa'], acr: ACR_MFA };
}

/** Whether the client asked (acr_values, RFC 9470 step-up) for a sign-in with a second factor. */
export function asksForSecondFactor(acrValues: unknown): boolean {
  return typeof acrValues === 'string' && acrValues.split(' ').includes(ACR_MFA);
}
