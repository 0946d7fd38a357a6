import type { UpstreamProviderConfig } from '../../config/index.ts';
import type { Store } from '../../storage/index.ts';
import type { PublicUser, UserDirectory } from '../accounts/users.ts';
import { FederationError } from './errors.ts';
import type { UpstreamIdentity } from './upstream.ts';

interface AccountLink {
  userId: string;
  provider: string;
}

const linkKey = (issuer: string, subject: string) => `federated:${issuer}#${subject}`;
/** Tag of every link to one user, so deleting the user deletes them. */
export const linksOfUser = (userId: string) => `federated-user:${userId}`;

/**
 * Local accounts for upstream identities: linked by the upstream iss+sub only (an email address
 * never links), created on a first sign-in when the provider allows it, and given the roles its
 * groups map to at every sign-in. Every check runs before anything is written.
 */
export class FederatedAccounts {
  readonly #store: Store;
  readonly #users: UserDirectory;

  constructor(store: Store, users: UserDirectory) {
    this.#store = store;
    this.#users = users;
  }

  async signIn(provider: UpstreamProviderConfig, identity: UpstreamIdentity): Promise<PublicUser> {
    if (provider.requireVerifiedEmail && identity.email !== undefined && !identity.emailVerified) {
      throw new FederationError('email_unverified', `email of ${identity.subject} not verified`);
    }
    const link = (await this.#store.get<AccountLink>(linkKey(identity.issuer, identity.subject)))?.value;
    const user = link ? await this.#users.findActiveById(link.userId) : await this.#provision(provider, identity);
    if (!user) throw new FederationError('account_disabled', `linked user ${link?.userId} is disabled or gone`);
    return this.#refresh(user, provider, identity);
  }

  async #provision(provider: UpstreamProviderConfig, identity: UpstreamIdentity): Promise<PublicUser> {
    if (!provider.provision) throw new FederationError('not_provisioned', `no account linked to ${identity.issuer}#${identity.subject}`);
    if (provider.allowedEmailDomains.length > 0) {
      const domain = identity.email?.split('@').pop();
      if (!domain || !provider.allowedEmailDomains.includes(domain)) throw new FederationError('email_domain', `email domain ${domain ?? '(none)'} not allowed`);
    }
    const user = await this.#users.addWithoutPassword(identity.email ?? `${provider.id}-${identity.subject}`, profileOf(identity));
    const key = linkKey(identity.issuer, identity.subject);
    if (await this.#store.putIfAbsent(key, { userId: user.id, provider: provider.id } satisfies AccountLink, { tags: [linksOfUser(user.id)] })) return user;
    // A parallel first sign-in linked first: use its account, drop ours.
    await this.#users.delete(user.name);
    const winner = (await this.#store.get<AccountLink>(key))?.value;
    return (winner && await this.#users.findActiveById(winner.userId)) || Promise.reject(new FederationError('account_disabled'));
  }

  /** Profile and group roles follow the upstream at every sign-in; roles no group maps to stay as set. */
  async #refresh(user: PublicUser, provider: UpstreamProviderConfig, identity: UpstreamIdentity): Promise<PublicUser> {
    const mapped = new Set(Object.values(provider.groupRoles));
    const granted = new Set(identity.groups.flatMap((group) => provider.groupRoles[group] ?? []));
    await this.#users.updateProfile(user.name, profileOf(identity));
    return this.#users.changeRoles(user.name, { add: [...granted], remove: [...mapped].filter((role) => !granted.has(role)) });
  }
}

function profileOf(identity: UpstreamIdentity) {
  return { email: identity.email, emailVerified: identity.email === undefined ? undefined : identity.emailVerified, displayName: identity.name };
}
