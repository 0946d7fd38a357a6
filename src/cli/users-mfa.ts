import type { AdminActor } from '../admin/admin-events.ts';
import type { UserAdministration } from '../admin/services/users.ts';
import { UsageError } from './io.ts';

export const usersMfaUsage = 'portcullis users mfa reset <name>';

/** `users mfa reset NAME`: removes the user's authenticator app, passkeys and recovery codes. */
export async function usersMfaCommand(admin: UserAdministration, actor: AdminActor, args: string[]): Promise<void> {
  const [action, name] = args;
  if (action !== 'reset' || !name) throw new UsageError(usersMfaUsage);
  const user = await admin.resetSecondFactor(actor, name);
  process.stdout.write(`removed every second factor and recovery code of user ${user.name}; their next sign-in asks for the password only, or to set up a second factor if one is required\n`);
}
