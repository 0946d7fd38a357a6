import { SecondFactors, type UserDirectory } from '../authorization-server/index.ts';
import type { Store } from '../storage/index.ts';
import { UsageError } from './io.ts';

export const usersMfaUsage = 'portcullis users mfa reset <name>';

/** `users mfa reset NAME`: removes the user's authenticator app, passkeys and recovery codes. */
export async function usersMfaCommand(store: Store, users: UserDirectory, args: string[]): Promise<void> {
  const [action, name] = args;
  if (action !== 'reset' || !name) throw new UsageError(usersMfaUsage);
  const user = (await users.list()).find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
  if (!user) throw new UsageError(`no user named ${name}`);
  await new SecondFactors(store).reset(user.id);
  process.stdout.write(`removed every second factor and recovery code of user ${user.name}; their next sign-in asks for the password only, or to set up a second factor if one is required\n`);
}
