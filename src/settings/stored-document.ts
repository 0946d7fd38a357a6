import type { Store } from '../storage/index.ts';
import type { SettingName } from './catalog.ts';

/** One version of the stored settings: what operators set, and who set each value when. */
export interface StoredSettings {
  version: number;
  values: Partial<Record<SettingName, unknown>>;
  changed: Partial<Record<SettingName, { by: string; at: string }>>;
  at: string;
  by: string;
}

const versionKey = (version: number) => `settings:v:${version}`;
const LATEST = 'settings:latest';

/**
 * Every version is its own record, written with putIfAbsent: of two writers that both read
 * version n, exactly one creates n+1 and the other learns it lost (compare-and-set on both
 * engines). `settings:latest` is only a hint for where to start reading.
 */
export async function readLatest(store: Store, known?: StoredSettings): Promise<StoredSettings | undefined> {
  let latest = known;
  if (!latest) {
    const hint = await store.get<number>(LATEST);
    const start = typeof hint?.value === 'number' ? hint.value : 0;
    latest = start > 0 ? (await store.get<StoredSettings>(versionKey(start)))?.value : undefined;
  }
  for (;;) {
    const next = await store.get<StoredSettings>(versionKey((latest?.version ?? 0) + 1));
    if (!next) return latest;
    latest = next.value;
  }
}

/** False when another writer created this version first. */
export async function writeVersion(store: Store, document: StoredSettings): Promise<boolean> {
  if (!(await store.putIfAbsent(versionKey(document.version), document))) return false;
  await store.put(LATEST, document.version);
  return true;
}
