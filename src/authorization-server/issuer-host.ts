import type { IncomingMessage } from 'node:http';

/**
 * oidc-provider builds the endpoint URLs it publishes (discovery, the audiences it accepts in
 * client assertions) from the request's Host. Any client can send any Host, so that would let
 * it put its own host into a discovery document a cache then serves to others, and a Host that
 * is not a valid host made discovery fail with 500. The protocol handler sees the issuer's host.
 */
export function pinHostToIssuer(request: IncomingMessage, issuer: URL): void {
  request.headers.host = issuer.host;
  delete request.headers['x-forwarded-host'];
}
