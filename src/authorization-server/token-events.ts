import type Provider from 'oidc-provider';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';

/**
 * Counts and logs every successful token endpoint grant: grant type, client and subject, never a
 * token. Clients anyone can create (registration, metadata documents) share the label `other`,
 * so the metric's labels stay bounded.
 */
export function observeGrants(provider: Provider, options: { metrics: Metrics; log: Logger; staticClientIds: ReadonlySet<string> }): void {
  const { metrics, log, staticClientIds } = options;
  provider.on('grant.success', (ctx) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? 'unknown');
    const clientId = ctx.oidc.client?.clientId;
    const entities = ctx.oidc.entities as { AuthorizationCode?: { accountId?: string }; RefreshToken?: { accountId?: string } };
    const subject = entities.AuthorizationCode?.accountId ?? entities.RefreshToken?.accountId;
    metrics.tokensIssued.inc({ grant_type: grantType, client: clientId && staticClientIds.has(clientId) ? clientId : 'other' });
    log.info({ event: 'token_issued', grantType, client: clientId, ...(subject ? { subject } : {}) }, 'tokens issued');
  });
}
