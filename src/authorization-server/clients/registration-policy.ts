import { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { valueOf, type Live } from '../../settings/index.ts';
import { applicationTypeFor, applicationTypeProblem } from './redirect-uris.ts';
import { assertSelfIntroducedClient } from './self-introduced.ts';

export type RegistrationMode = 'open' | 'token' | 'off';

/** Client metadata that marks a client as dynamically registered; set by the server, never by the registrant. */
export const DYNAMIC_REGISTRATION = 'portcullis_registration';

/** Client metadata an operator sets (`portcullis clients add --pkce optional`); never from a client itself. */
export const PKCE_METADATA = 'portcullis_pkce';

const AUTH_METHODS = new Set(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);

/**
 * oidc-provider's extraClientMetadata hook: it runs while a client is built, with the request's
 * ctx only for registrations. There it applies the registration policy and stamps the mark;
 * for every other client (static, stored, metadata documents) it changes nothing.
 */
export function registrationMetadata(mode: Live<RegistrationMode>, staticScopes: readonly string[]): NonNullable<Configuration['extraClientMetadata']> {
  return {
    properties: [DYNAMIC_REGISTRATION, PKCE_METADATA],
    validator(ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: ClientMetadata) {
      if (key === PKCE_METADATA) {
        if (value !== undefined && (ctx?.oidc?.route === 'registration' || String(metadata.client_id).startsWith('https://'))) {
          throw new errors.InvalidClientMetadata(`${PKCE_METADATA} is set by an operator only`);
        }
        return;
      }
      if (key !== DYNAMIC_REGISTRATION || ctx?.oidc?.route !== 'registration') return;
      // What the registrant declared, before any default was filled in.
      const declaredType = (ctx.oidc.body as Record<string, unknown> | undefined)?.application_type;
      const problem = Array.isArray(metadata.redirect_uris) ? applicationTypeProblem(declaredType, metadata.redirect_uris as string[]) : undefined;
      if (problem) throw new errors.InvalidClientMetadata(`redirect_uris: ${problem}`);
      negotiate(metadata, new Set(staticScopes));
      assertSelfIntroducedClient(metadata, { allowClientCredentials: valueOf(mode) === 'token' });
      metadata[DYNAMIC_REGISTRATION] = 'dynamic';
    },
  };
}

/**
 * RFC 7591 §2 lets the server replace requested values. Clients (Claude among them) ask for
 * what they know; they get the nearest thing we support instead of a refusal, and the
 * registration response tells them what they got.
 */
function negotiate(metadata: ClientMetadata, staticScopes: Set<string>): void {
  const method = metadata.token_endpoint_auth_method;
  if (typeof method === 'string' && !AUTH_METHODS.has(method)) {
    // client_secret_jwt, tls_client_auth, ...: a secret it can send in the header or body instead.
    metadata.token_endpoint_auth_method = 'client_secret_basic';
  }
  const redirectUris: unknown = metadata.redirect_uris;
  if (Array.isArray(redirectUris) && redirectUris.every((uri) => typeof uri === 'string')) {
    // cursor://, vscode:// and other private-use schemes are only valid for native clients.
    if (applicationTypeFor(redirectUris) === 'native') metadata.application_type = 'native';
  }
  if (typeof metadata.scope === 'string') {
    // A client's `scope` limits its OpenID scopes; resource scopes (notes:read) belong to each
    // resource and are granted per request, so they are left out rather than refused.
    const kept = metadata.scope.split(' ').filter((scope) => staticScopes.has(scope));
    if (kept.length) metadata.scope = kept.join(' ');
    else delete metadata.scope;
  }
}
