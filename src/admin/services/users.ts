import { randomBytes } from 'node:crypto';
import type { AuditSink } from '../../audit/index.ts';
import type { Logger } from '../../log/index.ts';
import type { Store } from '../../storage/index.ts';
import { AccountAccess, type AccountSession } from '../../authorization-server/accounts/account-access.ts';
import { SecondFactors, type SecondFactorStatus } from '../../authorization-server/accounts/second-factors.ts';
import { UserDirectory, UserError, USERNAME_PATTERN, type PublicUser, type RoleChange } from '../../authorization-server/accounts/users.ts';
import { linksOfUser } from '../../authorization-server/federation/index.ts';
import type { LoginLockout } from '../../authorization-server/rate-limits/login-lockout.ts';
import { auditedChange, recordAdminEvent, type AdminActor } from '../admin-events.ts';
import { sessionsOfUser } from '../session.ts';

export interface UserSummary extends PublicUser {
  secondFactor: SecondFactorStatus;
}

export interface UserAdministrationDependencies {
  store: Store;
  audit: AuditSink;
  log: Logger;
}

/** A password made for someone, shown once: 20 characters, 120 bits. */
export function generatedPassword(): string {
  return randomBytes(15).toString('base64url');
}

/**
 * What an operator does to user accounts, from the console or the `portcullis users` command:
 * each change is an `admin.user.*` audit event with the operator as its subject (the CLI's go
 * through the Store outbox), and ending someone's access ends their sign-in sessions, app
 * grants and console sessions on every instance.
 */
export class UserAdministration {
  readonly users: UserDirectory;
  readonly #store: Store;
  readonly #audit: AuditSink;
  readonly #log: Logger;
  readonly #access: AccountAccess;
  readonly #factors: SecondFactors;

  constructor(deps: UserAdministrationDependencies) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#log = deps.log;
    this.users = new UserDirectory(deps.store);
    this.#access = new AccountAccess(deps.store);
    this.#factors = new SecondFactors(deps.store);
  }

  /** Every user (matching `search` in name or e-mail, when given), sorted by name, with their second factors. */
  async list(search = ''): Promise<UserSummary[]> {
    const wanted = search.trim().toLowerCase();
    const users = (await this.users.list())
      .filter((user) => !wanted || user.name.toLowerCase().includes(wanted) || (user.email ?? '').toLowerCase().includes(wanted))
      .sort((a, b) => a.name.localeCompare(b.name));
    return Promise.all(users.map(async (user) => ({ ...user, secondFactor: await this.#factors.status(user.id) })));
  }

  async find(name: string): Promise<UserSummary> {
    const user = (await this.users.list()).find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (!user) throw new UserError(`no user named ${name}`);
    return { ...user, secondFactor: await this.#factors.status(user.id) };
  }

  /** Adds a user with this password, or a generated one returned to show once. */
  async add(actor: AdminActor, name: string, password?: string): Promise<{ user: PublicUser; password?: string }> {
    if (!USERNAME_PATTERN.test(name)) throw new UserError('a user name is 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');
    const chosen = password ?? generatedPassword();
    const user = await auditedChange(this.#audit, this.#log, (added) => ({ type: 'admin.user.added', actor, user: added.id, username: added.name }),
      () => this.users.add(name, chosen), (added) => this.users.delete(added.name));
    return password === undefined ? { user, password: chosen } : { user };
  }

  /** Disabling also ends everything the user is signed in to; enabling gives sign-in back. */
  async setDisabled(actor: AdminActor, name: string, disabled: boolean): Promise<PublicUser> {
    const target = await this.find(name);
    const user = await auditedChange(this.#audit, this.#log, { type: disabled ? 'admin.user.disabled' : 'admin.user.enabled', actor, user: target.id, username: target.name },
      () => this.users.setDisabled(name, disabled), () => this.users.setDisabled(name, target.disabled));
    if (disabled) await this.#endEverything(user.id);
    return user;
  }

  /** A new password (this one, or a generated one returned to show once); every session and app access ends. */
  async resetPassword(actor: AdminActor, name: string, password?: string): Promise<{ user: PublicUser; password?: string }> {
    const target = await this.find(name);
    const chosen = password ?? generatedPassword();
    if (chosen.length < 8) throw new UserError('a password has at least 8 characters');
    await recordAdminEvent(this.#audit, this.#log, { type: 'admin.user.password_reset', actor, user: target.id, username: target.name });
    const user = await this.users.setPassword(target.name, chosen);
    await this.#endEverything(user.id);
    return password === undefined ? { user, password: chosen } : { user };
  }

  async changeRoles(actor: AdminActor, name: string, change: RoleChange): Promise<PublicUser> {
    const target = await this.find(name);
    const added = (change.add ?? []).filter((role) => !target.roles.includes(role));
    const removed = (change.remove ?? []).filter((role) => target.roles.includes(role));
    return auditedChange(this.#audit, this.#log, (user) => ({ type: 'admin.user.roles_changed', actor, user: user.id, username: user.name, added, removed, roles: user.roles }),
      () => this.users.changeRoles(target.name, change), () => this.users.changeRoles(target.name, { add: removed, remove: added }));
  }

  /** Removes the authenticator app, passkeys and recovery codes; the next sign-in asks to set one up if one is required. */
  async resetSecondFactor(actor: AdminActor, name: string): Promise<PublicUser> {
    const target = await this.find(name);
    await recordAdminEvent(this.#audit, this.#log, { type: 'admin.user.second_factor_reset', actor, user: target.id, username: target.name });
    await this.#factors.reset(target.id);
    return target;
  }

  async sessions(name: string): Promise<AccountSession[]> {
    return this.#access.sessions((await this.find(name)).id);
  }

  /** Ends one sign-in session; false when the handle names none of the user's. */
  async endSession(actor: AdminActor, name: string, handle: string): Promise<boolean> {
    const target = await this.find(name);
    if (!(await this.#access.sessions(target.id)).some((session) => session.handle === handle)) return false;
    await recordAdminEvent(this.#audit, this.#log, { type: 'admin.user.session_ended', actor, user: target.id, username: target.name, session: handle });
    return this.#access.endSession(target.id, handle);
  }

  async delete(actor: AdminActor, name: string): Promise<PublicUser> {
    const target = await this.find(name);
    await recordAdminEvent(this.#audit, this.#log, { type: 'admin.user.deleted', actor, user: target.id, username: target.name });
    const user = await this.users.delete(target.name);
    await this.#endEverything(user.id);
    await this.#store.deleteByTag(linksOfUser(user.id));
    return user;
  }

  /** Lifts the sign-in pauses of a user; the number lifted. */
  async unlock(actor: AdminActor, name: string, lockout: LoginLockout): Promise<number> {
    await recordAdminEvent(this.#audit, this.#log, { type: 'admin.user.unlocked', actor, username: name });
    return lockout.unlock(name);
  }

  async #endEverything(userId: string): Promise<void> {
    await this.#access.endAll(userId);
    await this.#store.deleteByTag(sessionsOfUser(userId));
  }
}
