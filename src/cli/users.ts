import { parseArgs } from 'node:util';
import type { Config } from '../config/index.ts';
import { DISABLED_AUDIT } from '../audit/index.ts';
import { cliActor } from '../admin/admin-events.ts';
import { UserAdministration } from '../admin/services/users.ts';
import { auditOutbox } from '../authorization-server/audit-outbox.ts';
import { LoginLockout, UserError } from '../authorization-server/index.ts';
import { silentLogger } from '../log/index.ts';
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
portcullis users sessions <name> [--json]
portcullis users end-session <name> <handle>
portcullis users list [--json]
${usersMfaUsage}`;

/** The user commands: the same service as the console's Users page; each change is audited (through the running server). */
export async function usersCommand(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true, options: {
      'password-stdin': { type: 'boolean' }, json: { type: 'boolean' },
      add: { type: 'string', multiple: true }, remove: { type: 'string', multiple: true },
    },
  });
  const [action, name, handle] = positionals;
  const store = await openStore(config);
  try {
    const admin = new UserAdministration({ store, audit: config.audit === 'off' ? DISABLED_AUDIT : auditOutbox(store), log: silentLogger() });
    const actor = cliActor();
    if (action === 'list') {
      const list = await admin.users.list();
      if (values.json) process.stdout.write(`${JSON.stringify(list)}\n`);
      else printTable(list.map((user) => ({ name: user.name, id: user.id, status: user.disabled ? 'disabled' : 'active', roles: user.roles.join(',') || '-', created: user.createdAt })));
      return;
    }
    if (action === 'mfa') return await usersMfaCommand(admin, actor, positionals.slice(1));
    if (!name) throw new UsageError(`a user name is required\n${usersUsage}`);
    if (action === 'add') {
      const { user } = await admin.add(actor, name, await readNewPassword(values['password-stdin']));
      process.stdout.write(`added user ${user.name} (id ${user.id})\n`);
      return;
    }
    if (action === 'passwd') {
      const { user } = await admin.resetPassword(actor, name, await readNewPassword(values['password-stdin']));
      process.stdout.write(`changed the password of ${user.name}; their sessions and app access were ended\n`);
      return;
    }
    if (action === 'delete') {
      const user = await admin.delete(actor, name);
      process.stdout.write(`deleted user ${user.name} (id ${user.id}), their sessions, app access and company sign-in links\n`);
      return;
    }
    if (action === 'unlock') {
      const lockout = new LoginLockout(store, { threshold: config.loginLockoutThreshold, baseSeconds: config.loginLockoutBaseSeconds, maxSeconds: config.loginLockoutMaxSeconds });
      const lifted = await admin.unlock(actor, name, lockout);
      process.stdout.write(lifted ? `lifted ${lifted} sign-in pause(s) of ${name}\n` : `${name} had no sign-in pause\n`);
      return;
    }
    if (action === 'disable' || action === 'enable') {
      await admin.setDisabled(actor, name, action === 'disable');
      process.stdout.write(action === 'disable' ? `disabled user ${name}; their sessions and app access were ended\n` : `enabled user ${name}\n`);
      return;
    }
    if (action === 'roles') {
      const user = await admin.changeRoles(actor, name, { add: roleList(values.add), remove: roleList(values.remove) });
      process.stdout.write(`user ${user.name} has roles: ${user.roles.join(', ') || '(none)'}\n`);
      return;
    }
    if (action === 'sessions') {
      const sessions = await admin.sessions(name);
      if (values.json) process.stdout.write(`${JSON.stringify(sessions.map(({ uid: _uid, ...session }) => session))}\n`);
      else if (sessions.length === 0) process.stdout.write(`${name} has no sign-in sessions\n`);
      else printTable(sessions.map((session) => ({ handle: session.handle, 'signed in': time(session.signedInAt), expires: time(session.expiresAt) })));
      return;
    }
    if (action === 'end-session') {
      if (!handle) throw new UsageError(`a session handle is required (see users sessions ${name})`);
      if (!(await admin.endSession(actor, name, handle))) throw new UsageError(`${name} has no session ${handle}; nothing changed`);
      process.stdout.write(`ended session ${handle} of ${name}\n`);
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

const time = (seconds: number | undefined) => (seconds ? new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : '-');

/** `--add admin --add approver` and `--add admin,approver` say the same. */
function roleList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => value.split(',')).map((role) => role.trim()).filter(Boolean);
}
