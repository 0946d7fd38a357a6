import { parseArgs } from 'node:util';
import type { Config } from '../config/index.ts';
import { UserDirectory, UserError } from '../authorization-server/index.ts';
import { openStore } from '../storage/index.ts';
import { printTable, readStdin, UsageError } from './io.ts';
import { usersMfaCommand, usersMfaUsage } from './users-mfa.ts';

export const usersUsage = `portcullis users add <name> --password-stdin
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
      if (!values['password-stdin']) throw new UsageError('pass the password on standard input with --password-stdin (never as an argument)');
      const password = (await readStdin()).replace(/\r?\n$/, '');
      const user = await users.add(name, password);
      process.stdout.write(`added user ${user.name} (id ${user.id})\n`);
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
    throw new UsageError(usersUsage);
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
