import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SettingValues } from '../settings/index.ts';

/**
 * Registration and client metadata documents can be switched off while the server runs; the
 * discovery document then stops advertising them, as it would had they been off at start.
 */
export function liveDiscovery(live: () => Pick<SettingValues, 'registration' | 'cimd'>) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (ctx.oidc?.route !== 'discovery' || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as Record<string, unknown>;
    if (live().registration === 'off') delete body.registration_endpoint;
    if (live().cimd === 'off') delete body.client_id_metadata_document_supported;
  };
}
