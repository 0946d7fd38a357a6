import { parseArgs } from 'node:util';
import type { Config } from '../config/index.ts';
import { AccountAccess, LoginLockout, linksOfUser, UserDirectory, UserError } from '../authorization-server/index.ts';
import { openStore } from '../storage/index.ts';
import { printTable, UsageError } from './io.ts';
import { readNewPassword } from './password-prompt.ts';
import { usersMfaCommand, usersMfaUsage } from './users-mfa.ts';

export const usersUsage = `portcullis users add <name> [--password-stdin]
portcullis users passwd <name> [--password-stdin]
portcullis users delete <name>
portcullis users unlock <name>
portcullis users disable <name>
portcullis users enable <name>
portcullis users roles <name> [--add <role>]... [--remove <role>]...
portcullis users list [--json]
${usersMfaUsage}`;

export async function usersCommand(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true, options: {
      'password-stdin': { type: 'boolean' }, json: { type: 'boolean' },
      add: { type: 'string', multiple: true }, remove: { type: 'string', multiple: true },
    },
  });
  const [action, name] = positionals;
  const store = await openStore(config);
  try {
    const users = new UserDirectory(store);
    if (action === 'list') {
      const list = await users.list();
      if (values.json) process.stdout.write(`${JSON.stringify(list)}\n`);
      else printTable(list.map((user) => ({ name: user.name, id: user.id, status: user.disabled ? 'disabled' : 'active', roles: user.roles.join(',') || '-', created: user.createdAt })));
      return;
    }
    if (action === 'mfa') return await usersMfaCommand(store, users, positionals.slice(1));
    if (!name) throw new UsageError(`a user name is required\n${usersUsage}`);
    if (action === 'add') {
      const user = await users.add(name, await readNewPassword(values['password-stdin']));
      process.stdout.write(`added user ${user.name} (id ${user.id})\n`);
      return;
    }
    if (action === 'passwd') {
      const user = await users.setPassword(name, await readNewPassword(values['password-stdin']));
      await new AccountAccess(store).endAll(user.id);
      process.stdout.write(`changed the password of ${user.name}; their sessions and app access were ended\n`);
      return;
    }
    if (action === 'delete') {
      const user = await users.delete(name);
      await new AccountAccess(store).endAll(user.id);
      await store.deleteByTag(linksOfUser(user.id));
      process.stdout.write(`deleted user ${user.name} (id ${user.id}), their sessions, app access and company sign-in links\n`);
      return;
    }
    if (action === 'unlock') {
      const lockout = new LoginLockout(store, { threshold: config.loginLockoutThreshold, baseSeconds: config.loginLockoutBaseSeconds, maxSeconds: config.loginLockoutMaxSeconds });
      const lifted = await lockout.unlock(name);
      process.stdout.write(lifted ? `lifted ${lifted} sign-in pause(s) of ${name}\n` : `${name} had no sign-in pause\n`);
      return;
    }
    if (action === 'disable' || action === 'enable') {
      await users.setDisabled(name, action === 'disable');
      process.stdout.write(`${action}d user ${name}\n`);
      return;
    }
    if (action === 'roles') {
      const user = await users.changeRoles(name, { add: roleList(values.add), remove: roleList(values.remove) });
      process.stdout.write(`user ${user.name} has roles: ${user.roles.join(', ') || '(none)'}\n`);
      return;
    }
    throw new UsageError(`unknown command: users ${action}\n${usersUsage}`);
  } catch (error) {
    if (error instanceof UserError) throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}

/** `--add admin --add approver` and `--add admin,approver` say the same. */
function roleList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => value.split(',')).map((role) => role.trim()).filter(Boolean);
}
