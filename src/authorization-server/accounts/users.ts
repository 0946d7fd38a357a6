import { randomUUID } from 'node:crypto';
import type { Store } from '../../storage/index.ts';
import { hashPassword, verifyPassword } from './password.ts';

export interface User {
  /** Stable subject identifier (`sub`), never reused. */
  id: string;
  name: string;
  passwordHash: string;
  disabled: boolean;
  /** Roles such as `admin`, `approver`, `break-glass`, or any an operator defines; none by default. */
  roles: string[];
  createdAt: string;
  email?: string;
  emailVerified?: boolean;
  displayName?: string;
}

/** What a user's profile claims (`email`, `email_verified`, `name`) are made from. */
export interface Profile {
  email?: string | undefined;
  emailVerified?: boolean | undefined;
  displayName?: string | undefined;
}

/** Stored instead of a hash for accounts that only sign in through a company provider: no password matches it. */
const NO_PASSWORD = '!';

export type PublicUser = Omit<User, 'passwordHash'>;

const USERS_TAG = 'users';
const userKey = (name: string) => `user:${name.toLowerCase()}`;
const idTag = (id: string) => `user-id:${id}`;

export class UserError extends Error {
  override readonly name = 'UserError';
}

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** The roles Portcullis itself acts on; operators may define others. */
export const BUILT_IN_ROLES = ['admin', 'approver', 'break-glass'] as const;
export const ROLE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

export interface RoleChange {
  add?: readonly string[];
  remove?: readonly string[];
}

// Verifying against this keeps the time of "no such user" equal to "wrong password".
let dummyHash: Promise<string> | undefined;

/** The user directory, kept in the Store so every instance and the CLI see the same users. */
export class UserDirectory {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async add(name: string, password: string): Promise<PublicUser> {
    if (!USERNAME_PATTERN.test(name)) {
      throw new UserError('a username is 1-64 characters: letters, digits and . _ @ - (starting with a letter or digit)');
    }
    checkPassword(password);
    const user: User = {
      id: randomUUID(), name, passwordHash: await hashPassword(password), disabled: false, roles: [], createdAt: new Date().toISOString(),
    };
    const created = await this.#store.putIfAbsent(userKey(name), user, { tags: [USERS_TAG, idTag(user.id)] });
    if (!created) throw new UserError(`user ${name} already exists`);
    return withoutHash(user);
  }

  /** An account without a password (company sign-in); a taken name gets a short suffix. */
  async addWithoutPassword(preferredName: string, profile: Profile): Promise<PublicUser> {
    const base = preferredName.replace(/[^A-Za-z0-9._@-]/g, '').replace(/^[^A-Za-z0-9]+/, '').slice(0, 56) || 'user';
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const name = attempt === 0 ? base : `${base}.${randomUUID().slice(0, 6)}`;
      const user: User = {
        id: randomUUID(), name, passwordHash: NO_PASSWORD, disabled: false, roles: [], createdAt: new Date().toISOString(), ...definedProfile(profile),
      };
      if (await this.#store.putIfAbsent(userKey(name), user, { tags: [USERS_TAG, idTag(user.id)] })) return withoutHash(user);
    }
    throw new UserError(`no free user name for ${base}`);
  }

  /** Replaces the profile fields given (undefined leaves one as it is). */
  async updateProfile(name: string, profile: Profile): Promise<PublicUser> {
    return this.#update(name, () => definedProfile(profile));
  }

  async setDisabled(name: string, disabled: boolean): Promise<PublicUser> {
    return this.#update(name, () => ({ disabled }));
  }

  /** Adds and removes roles; the result is sorted and free of repeats. */
  async changeRoles(name: string, change: RoleChange): Promise<PublicUser> {
    const invalid = [...(change.add ?? []), ...(change.remove ?? [])].find((role) => !ROLE_PATTERN.test(role));
    if (invalid !== undefined) throw new UserError(`"${invalid}" is not a role name: 1-32 lower-case letters, digits, - and _, starting with a letter`);
    return this.#update(name, (user) => {
      const roles = new Set([...user.roles, ...(change.add ?? [])]);
      for (const role of change.remove ?? []) roles.delete(role);
      return { roles: [...roles].sort() };
    });
  }

  /** False for accounts made by company sign-in, which have none. */
  async hasPassword(name: string): Promise<boolean> {
    const user = await this.#byName(name);
    return user !== undefined && user.passwordHash !== NO_PASSWORD;
  }

  async setPassword(name: string, password: string): Promise<PublicUser> {
    checkPassword(password);
    const passwordHash = await hashPassword(password);
    return this.#update(name, () => ({ passwordHash }));
  }

  /** Removes the account; the id is never given to anyone else. */
  async delete(name: string): Promise<PublicUser> {
    const user = await this.#byName(name);
    if (!user) throw new UserError(`no user named ${name}`);
    await this.#store.delete(userKey(name));
    return withoutHash(user);
  }

  async list(): Promise<PublicUser[]> {
    const records = await this.#store.findByTag<User>(USERS_TAG);
    return records.map((record) => withoutHash(record.value));
  }

  /** The active user with that id, or undefined (unknown or disabled users get no tokens). */
  async findActiveById(id: string): Promise<PublicUser | undefined> {
    const [record] = await this.#store.findByTag<User>(idTag(id));
    if (!record || record.value.disabled) return undefined;
    return withoutHash(record.value);
  }

  /** The user when name and password match an enabled account; undefined otherwise, in equal time. */
  async authenticate(name: string, password: string): Promise<PublicUser | undefined> {
    const user = USERNAME_PATTERN.test(name) ? await this.#byName(name) : undefined;
    const hash = user?.passwordHash ?? (await (dummyHash ??= hashPassword(randomUUID())));
    const matches = await verifyPassword(password, hash);
    if (!user || !matches || user.disabled) return undefined;
    return withoutHash(user);
  }

  async #update(name: string, change: (user: User) => Partial<User>): Promise<PublicUser> {
    const user = await this.#byName(name);
    if (!user) throw new UserError(`no user named ${name}`);
    const updated = { ...user, ...change(user) };
    await this.#store.put(userKey(name), updated, { tags: [USERS_TAG, idTag(user.id)] });
    return withoutHash(updated);
  }

  async #byName(name: string): Promise<User | undefined> {
    const record = (await this.#store.get<User>(userKey(name)))?.value;
    return record && withRoles(record);
  }
}

function checkPassword(password: string): void {
  if (password.length < 8) throw new UserError('a password has at least 8 characters');
}

function definedProfile(profile: Profile): Partial<User> {
  return Object.fromEntries(Object.entries(profile).filter(([, value]) => value !== undefined));
}

// Users stored before roles existed have none.
function withRoles(user: User): User {
  return Array.isArray(user.roles) ? user : { ...user, roles: [] };
}

function withoutHash({ passwordHash: _omit, ...user }: User): PublicUser {
  return withRoles(user as User);
}
