import type { Store } from '../../storage/index.ts';

export type ElevationStatus = 'pending' | 'active' | 'denied' | 'expired' | 'revoked' | 'ended';

export interface Person {
  id: string;
  name: string;
}

/** One elevation: asked for in one authorization request, active from `start` to `end` once granted. */
export interface Elevation {
  id: string;
  status: ElevationStatus;
  requester: Person;
  client: { id: string; name: string };
  resource: string;
  scopes: string[];
  durationSeconds: number;
  reason: string;
  ticket?: string;
  redirectHost: string;
  breakGlass: boolean;
  /** The interaction (authorization request step) it belongs to. */
  interaction: string;
  /** Epoch seconds. */
  requestedAt: number;
  /** A pending request expires at this time. */
  decideBy: number;
  start?: number;
  end?: number;
  approver?: Person;
  decidedAt?: number;
  revokedBy?: string;
  revokedAt?: number;
  acknowledgedBy?: string;
  acknowledgedAt?: number;
}

/** The records are kept for the console and CLI; the audit log is the lasting record. */
const KEEP_SECONDS = 30 * 24 * 3600;
const ALL_TAG = 'elevations';
const UNACKNOWLEDGED_TAG = 'elevations-break-glass-unacknowledged';
const key = (id: string) => `elevation:${id}`;
const statusTag = (status: ElevationStatus) => `elevation-status:${status}`;
const interactionTag = (uid: string) => `elevation-interaction:${uid}`;

/** What the status is now: a pending request past its deadline has expired, an active one past its end has ended. */
export function currentStatus(elevation: Elevation, nowSeconds: number): ElevationStatus {
  if (elevation.status === 'pending' && nowSeconds >= elevation.decideBy) return 'expired';
  if (elevation.status === 'active' && nowSeconds >= (elevation.end ?? 0)) return 'ended';
  return elevation.status;
}

/** Elevation records in the Store, shared by every instance and the CLI. */
export class ElevationRecords {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async get(id: string): Promise<Elevation | undefined> {
    return (await this.#store.get<Elevation>(key(id)))?.value;
  }

  async forInteraction(uid: string): Promise<Elevation | undefined> {
    const [record] = await this.#store.findByTag<Elevation>(interactionTag(uid));
    return record?.value;
  }

  async list(status?: ElevationStatus): Promise<Elevation[]> {
    return (await this.#store.findByTag<Elevation>(status ? statusTag(status) : ALL_TAG)).map((record) => record.value);
  }

  async unacknowledgedBreakGlass(): Promise<Elevation[]> {
    return (await this.#store.findByTag<Elevation>(UNACKNOWLEDGED_TAG)).map((record) => record.value);
  }

  async create(elevation: Elevation): Promise<void> {
    await this.#store.put(key(elevation.id), elevation, { ttlSeconds: KEEP_SECONDS, tags: tagsOf(elevation) });
  }

  /**
   * Moves an elevation out of `from` once: of two callers racing (two approvers, two
   * instances), only the first changes it; the other gets undefined, as does a wrong `from`.
   */
  async transition(
    id: string, from: ElevationStatus | 'unacknowledged', change: (elevation: Elevation) => Partial<Elevation>,
    /** Runs once this caller has won, before the change is stored (a write-ahead audit event); if it throws, nothing changes. */
    beforeStoring?: (updated: Elevation) => Promise<unknown>,
  ): Promise<Elevation | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    const eligible = from === 'unacknowledged' ? current.breakGlass && !current.acknowledgedAt : current.status === from;
    if (!eligible) return undefined;
    const lock = `elevation-transition:${id}:${from}`;
    if (!(await this.#store.putIfAbsent(lock, true, { ttlSeconds: KEEP_SECONDS }))) return undefined;
    const updated = { ...current, ...change(current) };
    try {
      await beforeStoring?.(updated);
    } catch (error) {
      await this.#store.delete(lock);
      throw error;
    }
    await this.#store.put(key(id), updated, { ttlSeconds: KEEP_SECONDS, tags: tagsOf(updated) });
    return updated;
  }

  /** True for the first caller only: one elevation per authorization request, even if the form is sent twice at once. */
  async claimInteraction(uid: string): Promise<boolean> {
    return this.#store.putIfAbsent(`elevation-interaction-claim:${uid}`, true, { ttlSeconds: 3600 });
  }

  /** Remembers which elevation an authorization code carries, until the code is redeemed. */
  async linkCode(codeId: string, elevationId: string): Promise<void> {
    await this.#store.put(`elevation-code:${codeId}`, elevationId, { ttlSeconds: 600 });
  }

  async forCode(codeId: string): Promise<Elevation | undefined> {
    const id = (await this.#store.get<string>(`elevation-code:${codeId}`))?.value;
    return id ? this.get(id) : undefined;
  }
}

function tagsOf(elevation: Elevation): string[] {
  return [
    ALL_TAG, statusTag(elevation.status), interactionTag(elevation.interaction),
    ...(elevation.breakGlass && !elevation.acknowledgedAt ? [UNACKNOWLEDGED_TAG] : []),
  ];
}
