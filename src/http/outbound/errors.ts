/** Why an outbound request was refused or failed; callers and tests switch on it. */
export type OutboundReason =
  | 'not_https'
  | 'credentials_in_url'
  | 'internal_hostname'
  | 'forbidden_address'
  | 'unresolvable'
  | 'redirect'
  | 'too_large'
  | 'timeout'
  | 'tls'
  | 'network';

/**
 * A server-side request that Portcullis refused to make or could not finish. `message` is safe
 * to show the client that caused the request; `logDetail` may name the resolved address and
 * goes to the log only (it would reveal internal DNS to whoever asked).
 */
export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  readonly reason: OutboundReason;
  readonly logDetail: string;
  constructor(reason: OutboundReason, message: string, logDetail: string = message) {
    super(message);
    this.reason = reason;
    this.logDetail = logDetail;
  }
}
