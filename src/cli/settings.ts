import { parseArgs } from 'node:util';
import { DISABLED_AUDIT } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import { auditOutbox } from '../authorization-server/audit-outbox.ts';
import { cliActor } from '../admin/admin-events.ts';
import { displayValue, openSettings, type ApplyResult } from '../settings/index.ts';
import { openStore } from '../storage/index.ts';
import { printTable, UsageError } from './io.ts';

export const settingsUsage = `portcullis settings list [--json]
portcullis settings set NAME=VALUE... [--expect-version N]`;

/**
 * The live settings, as the console shows and changes them. A change reaches every running
 * instance within seconds; its audit event reaches the log through the running server (outbox).
 */
export async function settingsCommand(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true, options: { json: { type: 'boolean' }, 'expect-version': { type: 'string' } },
  });
  const [action, ...assignments] = positionals;
  const store = await openStore(config);
  try {
    const settings = await openSettings({ config, store, audit: config.audit === 'off' ? DISABLED_AUDIT : auditOutbox(store) });
    if (action === 'list') {
      const described = settings.describe();
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ version: settings.version, settings: described })}\n`);
        return;
      }
      printTable(described.map((entry) => ({
        name: entry.name, value: entry.display, source: entry.source === 'stored' ? `changed by ${entry.changedBy ?? '?'}` : entry.source, allowed: entry.allowed,
      })));
      return;
    }
    if (action === 'set') {
      if (assignments.length === 0) throw new UsageError(`give at least one NAME=VALUE\n${settingsUsage}`);
      const changes = Object.fromEntries(assignments.map((assignment) => {
        const equals = assignment.indexOf('=');
        if (equals < 1) throw new UsageError(`"${assignment}" is not NAME=VALUE`);
        return [assignment.slice(0, equals), assignment.slice(equals + 1)];
      }));
      const expected = values['expect-version'];
      if (expected !== undefined && !/^\d+$/.test(expected)) throw new UsageError('--expect-version is a version number from settings list --json');
      const result = await settings.apply(changes, { expectedVersion: expected === undefined ? settings.version : Number(expected), actor: cliActor() });
      reportResult(result);
      return;
    }
    throw new UsageError(settingsUsage);
  } finally {
    await store.close();
  }
}

function reportResult(result: ApplyResult): void {
  if (!result.ok && result.reason === 'conflict') {
    throw new UsageError(`the settings changed meanwhile (now version ${result.currentVersion}); nothing applied, look again and retry`);
  }
  if (!result.ok) {
    throw new UsageError(result.errors.map((error) => `${error.name}: ${error.message}${error.allowed ? ` (allowed: ${error.allowed})` : ''}`).join('; ') + '; nothing applied');
  }
  if (result.changes.length === 0) {
    process.stdout.write('nothing to change\n');
    return;
  }
  for (const change of result.changes) {
    process.stdout.write(`${change.name}: ${displayValue(change.name, change.before)} -> ${displayValue(change.name, change.after)}\n`);
  }
  process.stdout.write(`settings version ${result.version}; running servers apply it within 5 seconds\n`);
}
