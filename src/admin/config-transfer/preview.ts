import { createHash } from 'node:crypto';
import { canonicalJson } from '../../audit/canonical-json.ts';
import { checkSignature, type SignatureCheck } from '../../config/index.ts';
import { redirectUriProblem } from '../../authorization-server/clients/redirect-uris.ts';
import { currentDocument, type ConfigurationSources } from './current-document.ts';
import { configDocumentSchema, type ClientEntry, type ConfigDocument, type DocumentBody } from './document.ts';
import { byKey, diffEntries, type Difference, type SectionDiff, type SectionId } from './diff.ts';

export interface ImportProblem {
  /** Where in the document, as a JSON path such as clients.2.redirect_uris.0. */
  path: string;
  message: string;
}

/** What applying the document does, worked out in full before anything is written. */
export interface ImportPlan {
  clients: { put: ClientEntry[]; remove: string[] };
  roles: Array<{ name: string; before: string[]; after: string[] }>;
  /** Every editable setting that is not at its default afterwards (settings.replace semantics). */
  settings: { values: Record<string, unknown>; changed: boolean; expectedVersion: number };
}

export interface ImportPreview {
  ok: boolean;
  signature: SignatureCheck;
  problems: ImportProblem[];
  sections: SectionDiff[];
  /** Fingerprint of this server's configuration the preview was made against; applying refuses when it moved. */
  basis: string;
  document?: { issuer: string; exportedAt: string; sha256: string };
  plan?: ImportPlan;
}

const FIXED_BY = 'the configuration file (CONFIG_FILE)';
const MAX_PROBLEMS = 20;

const TITLES: Record<SectionId, string> = {
  settings: 'Settings',
  clients: 'Applications added in the console, by command or by registration',
  'roles.users': 'Who holds which role',
  resources: 'Resources',
  'clients.file': 'Applications in the configuration file',
  'roles.scopeRoles': 'Which roles may grant which scopes',
  'roles.groupRoles': 'Company groups that give roles',
  'policies.elevation': 'Elevated access policies',
};

/** Reads, checks and compares an export document with this server's configuration; writes nothing. */
export async function previewImport(text: string, sources: ConfigurationSources): Promise<ImportPreview> {
  await sources.settings.refresh();
  const current = configDocumentSchema.parse(await currentDocument(sources));
  const basis = fingerprint(current);
  const refused = (signature: SignatureCheck, problems: ImportProblem[]): ImportPreview => ({ ok: false, signature, problems: problems.slice(0, MAX_PROBLEMS), sections: [], basis });
  const raw = parseObject(text);
  if (typeof raw === 'string') return refused({ status: 'not_checked' }, [{ path: '(document)', message: raw }]);
  const signature = checkSignature(raw, sources.config.configSignatureKey);
  if (signature.status === 'refused') return refused(signature, [{ path: 'signature', message: `The document is refused because ${signature.reason}.` }]);
  const parsed = configDocumentSchema.safeParse(raw);
  if (!parsed.success) return refused(signature, parsed.error.issues.map((issue) => ({ path: pathText(issue.path), message: issue.message })));
  const incoming = parsed.data;
  const problems: ImportProblem[] = [...clientProblems(incoming, current)];
  const roles = await roleChanges(incoming, current, sources, problems);
  const settings = settingsChanges(incoming, sources, problems);
  const stored = diffEntries(storedClients(current), storedClients(incoming));
  const sections: SectionDiff[] = [
    section('settings', { added: [], changed: settings.changes, removed: [] }),
    section('clients', stored),
    section('roles.users', roles.diff),
    ...fixedSections(current, incoming),
  ];
  for (const fixed of sections.filter((entry) => entry.fixedBy)) problems.push(...fixedProblems(fixed));
  const document = { issuer: incoming.issuer, exportedAt: incoming.exported_at, sha256: createHash('sha256').update(text).digest('hex') };
  if (problems.length > 0) return { ...refused(signature, problems), sections, document };
  const incomingStored = storedClients(incoming);
  return {
    ok: true, signature, problems: [], sections, basis, document,
    plan: {
      clients: { put: [...stored.added, ...stored.changed].map((entry) => incomingStored[entry.key]!), remove: stored.removed.map((entry) => entry.key) },
      roles: roles.plan,
      settings: { values: settings.values, changed: settings.changes.length > 0, expectedVersion: sources.settings.version },
    },
  };
}

/** The configuration as it stands, as a short hash; the export time does not count. */
export function fingerprint(document: DocumentBody): string {
  const { exported_at: _time, ...rest } = document as DocumentBody & { signature?: unknown };
  delete (rest as { signature?: unknown }).signature;
  return createHash('sha256').update(canonicalJson(rest)).digest('base64url').slice(0, 22);
}

function parseObject(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'This is not JSON. Paste the whole exported document, from the first { to the last }.';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'The document must be a JSON object, as an export is.';
  if (!plainJson(value, 0)) return `The document holds a number too large to represent (such as 1e999) or is nested more than ${MAX_DEPTH} levels deep; an export never is.`;
  return value as Record<string, unknown>;
}

const MAX_DEPTH = 32;

/** Finite numbers and a bounded depth: what canonical JSON (signatures, comparisons) can represent. */
function plainJson(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (value === null || typeof value !== 'object') return true;
  if (depth >= MAX_DEPTH) return false;
  return Object.values(value).every((item) => plainJson(item, depth + 1));
}

function pathText(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(document)' : path.map(String).join('.');
}

function section(id: SectionId, diff: Pick<SectionDiff, 'added' | 'changed' | 'removed'>): SectionDiff {
  return { id, title: TITLES[id], ...diff };
}

const storedClients = (document: ConfigDocument) => byKey(document.clients.filter((client) => client.source !== 'configuration file'), (client) => client.client_id);
const fileClients = (document: ConfigDocument) => byKey(document.clients.filter((client) => client.source === 'configuration file'), (client) => client.client_id);

function clientProblems(incoming: ConfigDocument, current: ConfigDocument): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const seen = new Set<string>();
  const fixedHere = new Set(Object.keys(fileClients(current)));
  incoming.clients.forEach((client, index) => {
    const at = `clients.${index}`;
    if (seen.has(client.client_id)) problems.push({ path: `${at}.client_id`, message: `${client.client_id} is listed twice` });
    seen.add(client.client_id);
    if (client.source === 'configuration file') return;
    if (fixedHere.has(client.client_id)) problems.push({ path: `${at}.source`, message: `${client.client_id} is a client of this server's configuration file; change it there` });
    if (client.pkce === 'optional') problems.push({ path: `${at}.pkce`, message: 'only a client in the configuration file may skip PKCE' });
    client.redirect_uris.forEach((uri, uriIndex) => {
      const problem = redirectUriProblem(uri);
      if (problem) problems.push({ path: `${at}.redirect_uris.${uriIndex}`, message: problem });
    });
  });
  return problems;
}

/** Role assignments by the names users have here (user names are not case-sensitive); a user unknown here is a problem. */
async function roleChanges(incoming: ConfigDocument, current: ConfigDocument, sources: ConfigurationSources, problems: ImportProblem[]): Promise<{ diff: ReturnType<typeof diffEntries>; plan: ImportPlan['roles'] }> {
  const known = new Map((await sources.users.list()).map((user) => [user.name.toLowerCase(), user]));
  const wanted: Record<string, string[]> = {};
  for (const [name, roles] of Object.entries(incoming.roles.users)) {
    const user = known.get(name.toLowerCase());
    if (!user) problems.push({ path: `roles.users.${name}`, message: `there is no user ${name} on this server; add the user first or leave them out` });
    else if (wanted[user.name]) problems.push({ path: `roles.users.${name}`, message: `${user.name} is listed twice` });
    else wanted[user.name] = [...new Set(roles)].sort();
  }
  const diff = diffEntries(current.roles.users, wanted);
  const plan = [...diff.added, ...diff.changed, ...diff.removed].map((entry) => ({
    name: entry.key, before: known.get(entry.key.toLowerCase())?.roles ?? [], after: (entry.after as string[] | undefined) ?? [],
  }));
  return { diff, plan };
}

/** The settings that differ, validated by the settings service (the start-up schemas); fixed ones may not differ. */
function settingsChanges(incoming: ConfigDocument, sources: ConfigurationSources, problems: ImportProblem[]): { changes: Difference[]; values: Record<string, unknown> } {
  const described = sources.settings.describe();
  const currentValues = new Map<string, unknown>(described.map((setting) => [setting.name, setting.value]));
  const wanted = Object.fromEntries(Object.entries(incoming.settings)
    .filter(([name, entry]) => !currentValues.has(name) || canonicalJson(currentValues.get(name)) !== canonicalJson(entry.value))
    .map(([name, entry]) => [name, entry.value]));
  const preview = sources.settings.preview(wanted);
  if (!preview.ok) {
    problems.push(...preview.errors.map((error) => ({ path: `settings.${error.name}.value`, message: error.allowed ? `${error.message} (allowed: ${error.allowed})` : error.message })));
    return { changes: [], values: {} };
  }
  const after = new Map<string, unknown>(preview.changes.map((change) => [change.name, change.after]));
  const values = Object.fromEntries(described.filter((setting) => setting.editable && (after.has(setting.name) || setting.source === 'stored'))
    .map((setting) => [setting.name, after.has(setting.name) ? after.get(setting.name) : setting.value]));
  const labels = new Map(described.map((setting) => [setting.name, setting.label]));
  return { changes: preview.changes.map((change) => ({ key: change.name, label: labels.get(change.name), before: change.before, after: change.after })), values };
}

function fixedSections(current: ConfigDocument, incoming: ConfigDocument): SectionDiff[] {
  const resources = (document: ConfigDocument) => byKey(document.resources, (resource) => resource.uri);
  const pairs: Array<[SectionId, Record<string, unknown>, Record<string, unknown>]> = [
    ['resources', resources(current), resources(incoming)],
    ['clients.file', fileClients(current), fileClients(incoming)],
    ['roles.scopeRoles', current.roles.scopeRoles, incoming.roles.scopeRoles],
    ['roles.groupRoles', current.roles.groupRoles, incoming.roles.groupRoles],
    ['policies.elevation', current.policies.elevation, incoming.policies.elevation],
  ];
  return pairs.map(([id, before, after]) => ({ ...section(id, diffEntries(before, after)), fixedBy: FIXED_BY }));
}

function fixedProblems(fixed: SectionDiff): ImportProblem[] {
  const where = fixed.id === 'clients.file' ? 'clients' : fixed.id;
  const path = (key: string) => `${where}[${JSON.stringify(key)}]`;
  const rule = `${fixed.title.toLowerCase()} are fixed by ${FIXED_BY}`;
  return [
    ...fixed.added.map((entry) => ({ path: path(entry.key), message: `is not in this server's configuration file; ${rule}: add it there` })),
    ...fixed.changed.map((entry) => ({ path: path(entry.key), message: `differs from this server's configuration file; ${rule}: change it there` })),
    ...fixed.removed.map((entry) => ({ path: path(entry.key), message: `is missing, but this server's configuration file declares it; ${rule}` })),
  ];
}
