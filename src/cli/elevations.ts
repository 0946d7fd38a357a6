import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Config } from '../config/index.ts';
import { auditOutbox } from '../authorization-server/audit-outbox.ts';
import { createElevationService, currentStatus, type Elevation } from '../authorization-server/elevation/index.ts';
import { silentLogger } from '../log/index.ts';
import { openStore } from '../storage/index.ts';
import { printTable, UsageError } from './io.ts';

export const elevationsUsage = `portcullis elevations list [--active|--pending] [--json]
portcullis elevations revoke <id>`;

const time = (seconds: number | undefined) => (seconds ? new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : '-');

/** Lists and revokes elevations; events reach the audit log through the running server (audit outbox). */
export async function elevationsCommand(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true, options: { active: { type: 'boolean' }, pending: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  const [action, id] = positionals;
  const store = await openStore(config);
  try {
    const audit = config.audit === 'off' ? { append: async () => ({ seq: -1 }) } : auditOutbox(store);
    const elevations = createElevationService(config, store, audit, silentLogger());
    const now = elevations.nowSeconds();
    if (action === 'list') {
      if (values.active && values.pending) throw new UsageError('choose --active or --pending, not both');
      const wanted = values.active ? 'active' : values.pending ? 'pending' : undefined;
      const list = (await elevations.records.list())
        .map((elevation) => ({ ...elevation, status: currentStatus(elevation, now) }))
        .filter((elevation) => !wanted || elevation.status === wanted)
        .sort((a, b) => a.requestedAt - b.requestedAt);
      if (values.json) process.stdout.write(`${JSON.stringify(list)}\n`);
      else if (list.length === 0) process.stdout.write('no elevations\n');
      else printTable(list.map(row));
      return;
    }
    if (action === 'revoke') {
      if (!id) throw new UsageError(`an elevation id is required\n${elevationsUsage}`);
      const outcome = await elevations.revoke(id, `cli:${userInfo().username}`);
      if (outcome === 'not_found') throw new UsageError(`no elevation ${id}`);
      if (outcome === 'not_active') throw new UsageError(`elevation ${id} is not active; nothing changed`);
      process.stdout.write(`revoked elevation ${id}\n`);
      return;
    }
    throw new UsageError(elevationsUsage);
  } finally {
    await store.close();
  }
}

function row(elevation: Elevation): Record<string, string> {
  return {
    id: elevation.id, status: elevation.status, requester: elevation.requester.name, resource: elevation.resource, scopes: elevation.scopes.join(' '),
    minutes: String(Math.round(elevation.durationSeconds / 60)), approver: elevation.breakGlass ? 'break-glass' : elevation.approver?.name ?? '-',
    start: time(elevation.start), end: time(elevation.end), reason: elevation.reason,
  };
}
