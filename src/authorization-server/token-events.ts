import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';

/**
 * Counts and logs every token response that reaches the client: grant type, client and subject,
 * never a token. Register it before the audit write-ahead, so it runs after it and does not count
 * a token the audit log withheld. Clients anyone can create (registration, metadata documents)
 * share the label `other`, so the metric's labels stay bounded.
 */
export function observeGrants(provider: Provider, options: { metrics: Metrics; log: Logger; staticClientIds: ReadonlySet<string> }): void {
  const { metrics, log, staticClientIds } = options;
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx as KoaContextWithOIDC;
    if (oidc?.route !== 'token' || ctx.status !== 200) return;
    const grantType = String(oidc.params?.grant_type ?? 'unknown');
    const clientId = oidc.client?.clientId;
    const entities = oidc.entities as { AuthorizationCode?: { accountId?: string }; RefreshToken?: { accountId?: string } };
    const subject = entities.AuthorizationCode?.accountId ?? entities.RefreshToken?.accountId;
    metrics.tokensIssued.inc({ grant_type: grantType, client: clientId && staticClientIds.has(clientId) ? clientId : 'other' });
    log.info({ event: 'token_issued', grantType, client: clientId, ...(subject ? { subject } : {}) }, 'tokens issued');
  });
}
