import type { UpstreamProviderConfig } from '../../config/index.ts';
import type { OutboundFetch } from '../../http/outbound/index.ts';
import type { Store } from '../../storage/index.ts';
import type { UserDirectory } from '../accounts/users.ts';
import { FederatedAccounts } from './accounts.ts';
import { FederationError } from './errors.ts';
import { UpstreamProvider } from './upstream.ts';

export { FederationError, type FederationFailure } from './errors.ts';
export { FederatedAccounts, linksOfUser } from './accounts.ts';
export type { PendingChecks, UpstreamIdentity } from './upstream.ts';

/** Where every upstream provider sends the browser back; register it there as the redirect URI. */
export const FEDERATION_CALLBACK_PATH = '/federation/callback';

/** Company sign-in: the configured upstream providers and the accounts linked to them. */
export class Federation {
  readonly accounts: FederatedAccounts;
  readonly #providers: Map<string, UpstreamProvider>;

  constructor(options: { providers: readonly UpstreamProviderConfig[]; issuer: string; fetch: OutboundFetch; store: Store; users: UserDirectory }) {
    const redirectUri = `${options.issuer}${FEDERATION_CALLBACK_PATH}`;
    this.#providers = new Map(options.providers.map((config) => [config.id, new UpstreamProvider(config, options.fetch, redirectUri)]));
    this.accounts = new FederatedAccounts(options.store, options.users);
  }

  /** What the sign-in page offers, in configuration order. */
  get choices(): Array<{ id: string; name: string }> {
    return [...this.#providers.values()].map(({ config }) => ({ id: config.id, name: config.name }));
  }

  provider(id: string): UpstreamProvider {
    const provider = this.#providers.get(id);
    if (!provider) throw new FederationError('unknown_provider', id);
    return provider;
  }
}
