import { canonicalJson } from '../../audit/canonical-json.ts';

/** One entry of a section that the import adds, changes or removes. */
export interface Difference {
  key: string;
  /** Plain words for the key, where there are some (a setting's label). */
  label?: string;
  before?: unknown;
  after?: unknown;
}

export interface SectionDiff {
  id: SectionId;
  /** In plain words, for pages and the command line. */
  title: string;
  /** Set for sections this server takes from its configuration file: import cannot change them. */
  fixedBy?: string;
  added: Difference[];
  changed: Difference[];
  removed: Difference[];
}

export type SectionId = 'settings' | 'clients' | 'roles.users' | 'resources' | 'clients.file' | 'roles.scopeRoles' | 'roles.groupRoles' | 'policies.elevation';

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const isEmpty = (value: unknown) => value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);

/** Entries by key, compared as canonical JSON; empty entries ({} or []) count as absent. */
export function diffEntries(before: Record<string, unknown>, after: Record<string, unknown>): Pick<SectionDiff, 'added' | 'changed' | 'removed'> {
  const present = (entries: Record<string, unknown>) => new Map(Object.entries(entries).filter(([, value]) => !isEmpty(value)));
  const old = present(before);
  const next = present(after);
  const added: Difference[] = [];
  const changed: Difference[] = [];
  for (const [key, value] of next) {
    if (!old.has(key)) added.push({ key, after: value });
    else if (!same(old.get(key), value)) changed.push({ key, before: old.get(key), after: value });
  }
  const removed = [...old].filter(([key]) => !next.has(key)).map(([key, value]) => ({ key, before: value }));
  return { added, changed, removed };
}

export const hasDifferences = (section: Pick<SectionDiff, 'added' | 'changed' | 'removed'>) =>
  section.added.length + section.changed.length + section.removed.length > 0;

export function byKey<T>(items: readonly T[], key: (item: T) => string): Record<string, T> {
  return Object.fromEntries(items.map((item) => [key(item), item]));
}
