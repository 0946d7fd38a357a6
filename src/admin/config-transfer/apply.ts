import type { ClientMetadata } from 'oidc-provider';
import type { AuditSink } from '../../audit/index.ts';
import { modelKey } from '../../authorization-server/adapter.ts';
import { revokeClientGrants } from '../../authorization-server/clients/client-grants.ts';
import { forgetLastUse } from '../../authorization-server/clients/last-use.ts';
import { DYNAMIC_REGISTRATION } from '../../authorization-server/clients/registration-policy.ts';
import { generateClientSecret, hashClientSecret } from '../../authorization-server/clients/secrets.ts';
import type { Logger } from '../../log/index.ts';
import { recordAdminEvent, type AdminActor } from '../admin-events.ts';
import { STORED_CLIENTS_TAG, type ConfigurationSources } from './current-document.ts';
import type { ClientEntry } from './document.ts';
import { previewImport, type ImportPlan, type ImportPreview } from './preview.ts';

/** The admin in the console (`viewer.actor`) or the person at the command line (`cliActor()`). */
export type TransferActor = AdminActor;

export interface TransferDependencies extends ConfigurationSources {
  audit: AuditSink;
  log: Logger;
}

export type ImportOutcome =
  | { status: 'applied'; preview: ImportPreview; newSecrets: Array<{ client_id: string; client_secret: string }> }
  | { status: 'refused'; preview: ImportPreview }
  | { status: 'conflict'; message: string };

type Undo = () => Promise<unknown>;

const LOCK_KEY = 'config-import:lock';
const LOCK_SECONDS = 120;

/**
 * Applies an export document all or nothing: it is checked again in full, refused when this server's
 * configuration moved since the preview (`basis`), and every change made is undone when a later one (the
 * settings' compare-and-set or the write-ahead audit event) fails. One import runs at a time (a Store lock).
 */
export async function applyImport(text: string, deps: TransferDependencies, options: { basis?: string; actor: TransferActor }): Promise<ImportOutcome> {
  if (!(await deps.store.putIfAbsent(LOCK_KEY, { actor: options.actor.name }, { ttlSeconds: LOCK_SECONDS }))) {
    return { status: 'conflict', message: 'Another import is being applied right now. Nothing was applied; try again in a minute.' };
  }
  try {
    const preview = await previewImport(text, deps);
    if (!preview.ok || !preview.plan) return { status: 'refused', preview };
    if (options.basis !== undefined && options.basis !== preview.basis) {
      return { status: 'conflict', message: 'The configuration changed after the preview (a setting, an application or a role). Nothing was applied; look at the changes again.' };
    }
    return await applyPlan(preview, preview.plan, deps, options.actor);
  } finally {
    await deps.store.delete(LOCK_KEY);
  }
}

async function applyPlan(preview: ImportPreview, plan: ImportPlan, deps: TransferDependencies, actor: TransferActor): Promise<ImportOutcome> {
  const undo: Undo[] = [];
  const newSecrets: Array<{ client_id: string; client_secret: string }> = [];
  try {
    for (const entry of plan.clients.put) newSecrets.push(...await putClient(entry, deps, undo));
    for (const clientId of plan.clients.remove) await removeClient(clientId, deps, undo);
    for (const change of plan.roles) {
      const add = change.after.filter((role) => !change.before.includes(role));
      const remove = change.before.filter((role) => !change.after.includes(role));
      await deps.users.changeRoles(change.name, { add, remove });
      undo.push(() => deps.users.changeRoles(change.name, { add: remove, remove: add }));
    }
    if (plan.settings.changed) {
      const conflict = await replaceSettings(plan.settings, deps, actor, undo);
      if (conflict) {
        await rollBack(undo, deps);
        return { status: 'conflict', message: conflict };
      }
    }
    await recordAdminEvent(deps.audit, deps.log, {
      type: 'admin.config.imported', actor, document_sha256: preview.document?.sha256, signature: preview.signature.status,
      changes: Object.fromEntries(preview.sections.filter((section) => !section.fixedBy).map((section) => [section.id, { added: section.added.length, changed: section.changed.length, removed: section.removed.length }])),
    });
  } catch (error) {
    await rollBack(undo, deps);
    throw error;
  }
  await endGrantsOfRemoved(plan.clients.remove, deps);
  return { status: 'applied', preview, newSecrets };
}

/** Once the import is on the record (this cannot be undone): a removed client's grants and last use go too, as when it is deleted. */
async function endGrantsOfRemoved(clientIds: string[], deps: TransferDependencies): Promise<void> {
  for (const clientId of clientIds) {
    try {
      await revokeClientGrants(deps.store, clientId);
      await forgetLastUse(deps.store, clientId);
    } catch (error) {
      // The client is gone, so its grants are of no use to anyone; a later delete or clean-up is not needed.
      deps.log.warn({ err: { name: (error as Error).name, message: (error as Error).message }, clientId }, 'grants of a client removed by an import not ended');
    }
  }
}

/** Stored metadata keeps its secret hash; a client that now needs a secret and has none gets a new one, shown once. */
async function putClient(entry: ClientEntry, deps: TransferDependencies, undo: Undo[]): Promise<Array<{ client_id: string; client_secret: string }>> {
  const key = modelKey('Client', entry.client_id);
  const before = await deps.store.get<ClientMetadata>(key);
  const { source, pkce: _pkce, client_secret: _none, ...metadata } = entry;
  const needsSecret = metadata.token_endpoint_auth_method !== 'none' && metadata.token_endpoint_auth_method !== 'private_key_jwt';
  const kept = needsSecret ? before?.value.client_secret : undefined;
  const fresh = needsSecret && !kept ? generateClientSecret() : undefined;
  const secretHash = kept ?? (fresh ? hashClientSecret(fresh) : undefined);
  await deps.store.put(key, {
    ...metadata, ...(secretHash ? { client_secret: secretHash } : {}), ...(source === 'registered' ? { [DYNAMIC_REGISTRATION]: 'dynamic' } : {}),
  }, { tags: [STORED_CLIENTS_TAG] });
  undo.push(() => (before ? deps.store.put(key, before.value, { tags: [STORED_CLIENTS_TAG] }) : deps.store.delete(key)));
  return fresh ? [{ client_id: entry.client_id, client_secret: fresh }] : [];
}

async function removeClient(clientId: string, deps: TransferDependencies, undo: Undo[]): Promise<void> {
  const key = modelKey('Client', clientId);
  const before = await deps.store.get<ClientMetadata>(key);
  if (!before) return;
  await deps.store.delete(key);
  undo.push(() => deps.store.put(key, before.value, { tags: [STORED_CLIENTS_TAG] }));
}

/** Returns a conflict message when the settings moved (nothing of them applied). */
async function replaceSettings(settings: ImportPlan['settings'], deps: TransferDependencies, actor: TransferActor, undo: Undo[]): Promise<string | undefined> {
  const previous = Object.fromEntries(deps.settings.describe().filter((setting) => setting.source === 'stored').map((setting) => [setting.name, setting.value]));
  const result = await deps.settings.replace(settings.values, { expectedVersion: settings.expectedVersion, actor: settingsActor(actor) });
  if (!result.ok && result.reason === 'conflict') return 'Someone changed a setting after the preview. Nothing was applied; look at the changes again.';
  if (!result.ok) throw new Error(`settings refused after the preview: ${result.errors.map((error) => error.name).join(', ')}`);
  undo.push(() => deps.settings.replace(previous, { expectedVersion: result.version, actor: settingsActor(actor) }));
  return undefined;
}

const settingsActor = (actor: TransferActor) => ({ subject: actor.subject, name: actor.name });

async function rollBack(undo: Undo[], deps: TransferDependencies): Promise<void> {
  for (const step of undo.reverse()) {
    try {
      await step();
    } catch (error) {
      deps.log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'undoing part of a failed import failed');
    }
  }
}
