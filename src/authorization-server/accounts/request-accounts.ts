import type { PublicUser, UserDirectory } from './users.ts';

type Lookup = Pick<UserDirectory, 'findActiveById'>;

/**
 * Account lookups made once per request. oidc-provider asks for the signed-in user's account in
 * three places during one grant (findAccount, the scopes the user's roles allow, the `roles`
 * claim); each would be a store read. Keyed by the request's context, so nothing outlives it.
 */
export class RequestAccounts {
  readonly #byRequest = new WeakMap<object, Map<string, Promise<PublicUser | undefined>>>();
  readonly #load: (id: string) => Promise<PublicUser | undefined>;

  /** `load` reads one account: the directory, or a read a refresh grant started ahead. */
  constructor(load: (id: string) => Promise<PublicUser | undefined>) {
    this.#load = load;
  }

  /** The account `id` as this request first read it (no request: read now). */
  find(ctx: object | undefined, id: string): Promise<PublicUser | undefined> {
    if (!ctx) return this.#load(id);
    let seen = this.#byRequest.get(ctx);
    if (!seen) this.#byRequest.set(ctx, (seen = new Map()));
    let found = seen.get(id);
    if (!found) seen.set(id, (found = this.#load(id)));
    return found;
  }

  /** A directory for code that takes one, reading through this request's lookups. */
  of(ctx: object | undefined): Lookup {
    return { findActiveById: (id) => this.find(ctx, id) };
  }
}
