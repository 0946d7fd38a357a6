#!/usr/bin/env node
import { usePasswordHashCost } from '../authorization-server/accounts/password.ts';
import { ConfigError, loadConfig } from '../config/index.ts';
import { KeyConfigError } from '../keys/index.ts';
import { StoreUnavailableError } from '../storage/index.ts';
import { ProofError } from '../audit/index.ts';
import { auditCommand, auditUsage } from './audit.ts';
import { clientsCommand, clientsUsage } from './clients.ts';
import { configCommand, configUsage, signCommand } from './config.ts';
import { elevationsCommand, elevationsUsage } from './elevations.ts';
import { UsageError } from './io.ts';
import { keysCommand, keysUsage } from './keys.ts';
import { settingsCommand, settingsUsage } from './settings.ts';
import { usersCommand, usersUsage } from './users.ts';

const commands: Record<string, (config: ReturnType<typeof loadConfig>, args: string[]) => Promise<void>> = {
  users: usersCommand,
  clients: clientsCommand,
  keys: keysCommand,
  audit: auditCommand,
  elevations: elevationsCommand,
  settings: settingsCommand,
  config: configCommand,
};

const usage = `usage: portcullis <command>

portcullis start            (same as npm start)
${usersUsage}
${clientsUsage}
${keysUsage}
${auditUsage}
${elevationsUsage}
${settingsUsage}
${configUsage}

Settings come from the environment and CONFIG_FILE, as for the server (DATA_DIR, KEYS_DIR, ...).`;

async function run(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === 'start') {
    await import('../main.ts');
    return;
  }
  if (name === 'config' && args[0] === 'sign') {
    await signCommand(args);
    return;
  }
  const command = name ? commands[name] : undefined;
  if (!command) {
    const unknown = name && name !== 'help' && name !== '--help';
    if (unknown) process.stderr.write(`portcullis: unknown command "${name}"; the commands are: start, ${Object.keys(commands).join(', ')}\n`);
    process.stdout.write(`${usage}\n`);
    if (unknown) process.exitCode = 2;
    return;
  }
  const config = loadConfig();
  usePasswordHashCost(config.passwordHashCost);
  await command(config, args);
}

// `portcullis audit query | head`: the reader left, so stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

run(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof UsageError || error instanceof ConfigError || error instanceof KeyConfigError
    || error instanceof StoreUnavailableError || error instanceof ProofError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`portcullis: ${(error as Error).message ?? String(error)}\n`);
  process.exit(known ? 2 : 1);
});
