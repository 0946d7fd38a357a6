import { errors, type ClientMetadata } from 'oidc-provider';
import { redirectUriProblem } from './redirect-uris.ts';

/**
 * Rules for clients that introduce themselves, by dynamic registration or by a client ID
 * metadata document: nobody vouched for them, so they get only what a user's consent can
 * guard. Errors are RFC 7591 ones (oidc-provider names a `redirect_uris…` description
 * invalid_redirect_uri).
 */
export function assertSelfIntroducedClient(metadata: ClientMetadata, options: { allowClientCredentials: boolean }): void {
  const redirectUris: unknown = metadata.redirect_uris;
  if (Array.isArray(redirectUris)) {
    for (const uri of redirectUris) {
      const problem = typeof uri === 'string' ? redirectUriProblem(uri) : undefined;
      if (problem) throw new errors.InvalidClientMetadata(`redirect_uris: ${problem}`);
    }
  }
  const grantTypes: unknown = metadata.grant_types;
  if (!options.allowClientCredentials && Array.isArray(grantTypes) && grantTypes.includes('client_credentials')) {
    throw new errors.InvalidClientMetadata('grant_types: client_credentials needs a client registered by an operator or with an initial access token');
  }
}
