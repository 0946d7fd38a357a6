import { createHash } from 'node:crypto';
import type { Store } from '../../storage/index.ts';
import { accountTag, grantTag, modelKey } from '../adapter.ts';

/** A signed-in browser of the account (an oidc-provider session), named by a handle that is not its cookie. */
export interface AccountSession {
  handle: string;
  signedInAt: number | undefined;
  expiresAt: number | undefined;
  /** Session ids, to tell the current browser apart; never shown. */
  uid: string | undefined;
}

/** What an application holds: one grant (client, scopes per resource), with when a token was last made from it. */
export interface ConnectedApp {
  grantId: string;
  clientId: string;
  scopes: string[];
  resources: Record<string, string[]>;
  lastUsedAt: number | undefined;
}

interface StoredSession { uid?: string; loginTs?: number; accountId?: string }
interface StoredGrant { clientId?: string; accountId?: string; openid?: { scope?: string }; resources?: Record<string, string>; iat?: number }

const SESSION_PREFIX = modelKey('Session', '');
const GRANT_PREFIX = modelKey('Grant', '');
const handleOf = (key: string) => createHash('sha256').update(key).digest('base64url').slice(0, 22);
/** The handle of the session with this id (the session cookie's value). */
export const sessionHandle = (sessionId: string) => handleOf(modelKey('Session', sessionId));

/**
 * The sessions and grants of one account, read from and ended in the Store, so ending one here
 * ends it on every instance at once. oidc-provider's adapter tags both with the account id.
 */
export class AccountAccess {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async sessions(accountId: string): Promise<AccountSession[]> {
    const records = (await this.#store.findByTag<StoredSession>(accountTag(accountId))).filter(({ key }) => key.startsWith(SESSION_PREFIX));
    return records.filter(({ value }) => value.accountId === accountId)
      .map(({ key, value, expiresAt }) => ({ handle: handleOf(key), signedInAt: value.loginTs, expiresAt, uid: value.uid }));
  }

  /** Ends one session of this account; false when the handle names none of its sessions. */
  async endSession(accountId: string, handle: string): Promise<boolean> {
    const records = (await this.#store.findByTag<StoredSession>(accountTag(accountId))).filter(({ key }) => key.startsWith(SESSION_PREFIX));
    const record = records.find(({ key, value }) => handleOf(key) === handle && value.accountId === accountId);
    if (!record) return false;
    await this.#store.delete(record.key);
    return true;
  }

  async apps(accountId: string): Promise<ConnectedApp[]> {
    const records = (await this.#store.findByTag<StoredGrant>(accountTag(accountId))).filter(({ key }) => key.startsWith(GRANT_PREFIX));
    return Promise.all(records.filter(({ value }) => value.accountId === accountId).map(async ({ key, value }) => {
      const grantId = key.slice(GRANT_PREFIX.length);
      const tokens = await this.#store.findByTag<{ iat?: number }>(grantTag(grantId));
      const issued = tokens.map(({ value: token }) => token.iat ?? 0).filter(Boolean);
      return {
        grantId,
        clientId: value.clientId ?? '',
        scopes: (value.openid?.scope ?? '').split(' ').filter(Boolean),
        resources: Object.fromEntries(Object.entries(value.resources ?? {}).map(([uri, scope]) => [uri, scope.split(' ').filter(Boolean)])),
        lastUsedAt: issued.length ? Math.max(...issued) : value.iat,
      };
    }));
  }

  /** Revokes one grant of this account with every token made from it; false when it is not theirs. */
  async revokeApp(accountId: string, grantId: string): Promise<boolean> {
    const record = await this.#store.get<StoredGrant>(modelKey('Grant', grantId));
    if (!record || record.value.accountId !== accountId) return false;
    await this.#store.deleteByTag(grantTag(grantId));
    await this.#store.delete(modelKey('Grant', grantId));
    return true;
  }

  /** Every session and grant of the account (a deleted user, a changed password). */
  async endAll(accountId: string, keepSessionHandle?: string): Promise<void> {
    for (const app of await this.apps(accountId)) await this.revokeApp(accountId, app.grantId);
    for (const session of await this.sessions(accountId)) {
      if (session.handle !== keepSessionHandle) await this.endSession(accountId, session.handle);
    }
  }
}
