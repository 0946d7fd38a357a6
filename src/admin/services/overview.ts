import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditRecord } from '../../audit/records.ts';
import { listLogFiles } from '../../audit/read-log.ts';
import { readPage } from '../../audit/page.ts';
import { listClients } from '../../authorization-server/clients/registry.ts';
import { currentStatus } from '../../authorization-server/elevation/records.ts';
import type { ConsoleDeps } from '../console-page.ts';

export interface AuditHealth {
  records: number;
  bytes: number;
  lastCheckpoint: { size: number; writtenAt: string } | undefined;
}

export interface OverviewFacts {
  store: { engine: string; reachable: boolean };
  /** Undefined with AUDIT=off. */
  audit: AuditHealth | undefined;
  keys: { current: string; published: string[]; source: string };
  counts: { users: number; disabledUsers: number; admins: number; staticClients: number; storedClients: number; pendingApprovals: number; activeElevations: number };
  recent: AuditRecord[];
}

export const RECENT_EVENTS = 20;

/** What the Overview shows, read fresh on each view; a store that does not answer is reported, not thrown. */
export async function overviewFacts(deps: ConsoleDeps): Promise<OverviewFacts> {
  const reachable = await deps.store.ping().then(() => true, () => false);
  const users = reachable ? await deps.users.list() : [];
  const now = deps.elevation.nowSeconds();
  const [stored, pending, active] = reachable
    ? await Promise.all([listClients(deps.store), deps.elevation.records.list('pending'), deps.elevation.records.list('active')])
    : [[], [], []];
  const dir = deps.auditLog?.dir;
  return {
    store: { engine: deps.store.engine, reachable },
    audit: dir && deps.auditLog ? { ...(await auditFiles(dir)), records: deps.auditLog.size } : undefined,
    keys: { current: deps.keys.signingKid, published: deps.keys.publicJwks().keys.map((key) => key.kid), source: deps.keys.source },
    counts: {
      users: users.length, disabledUsers: users.filter((user) => user.disabled).length, admins: users.filter((user) => user.roles.includes('admin')).length,
      staticClients: deps.config.clients.length, storedClients: stored.length,
      pendingApprovals: pending.filter((request) => currentStatus(request, now) === 'pending').length,
      activeElevations: active.filter((elevation) => currentStatus(elevation, now) === 'active').length,
    },
    recent: dir ? (await readPage(dir, {}, { limit: RECENT_EVENTS })).records : [],
  };
}

async function auditFiles(dir: string): Promise<Omit<AuditHealth, 'records'>> {
  const files = await listLogFiles(dir);
  const sizes = await Promise.all(files.segments.map(async (segment) => (await stat(join(dir, segment.name))).size));
  const last = files.checkpoints.at(-1);
  return {
    bytes: sizes.reduce((sum, size) => sum + size, 0),
    lastCheckpoint: last ? { size: last.size, writtenAt: (await stat(join(dir, last.name))).mtime.toISOString() } : undefined,
  };
}

