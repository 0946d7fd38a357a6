/** What a successful verification returns. Frozen: the same object may be served from the cache. */
export interface VerifiedToken {
  /** `sub`: the user, or the client itself for client_credentials tokens. */
  readonly subject: string;
  /** `client_id` (RFC 9068), else `azp` (OIDC, Auth0, Entra v2), else `appid` (Entra v1). */
  readonly clientId: string | undefined;
  /** From `scope` (space-separated) or `scp` (array or space-separated string). */
  readonly scopes: readonly string[];
  /** `aud`, always as an array; it contains the verifier's resource. */
  readonly audience: readonly string[];
  readonly issuer: string;
  /** `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
  readonly issuedAt?: number;
  readonly jti?: string;
  /** Every claim of the payload. */
  readonly claims: Readonly<Record<string, unknown>>;
}
