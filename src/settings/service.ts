import type { AuditSink } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import type { Store } from '../storage/index.ts';
import { SETTING_INFO, SETTING_NAMES, type SettingName, type SettingValues } from './catalog.ts';
import { readLatest, writeVersion, type StoredSettings } from './stored-document.ts';
import {
  allowedText, crossFieldErrors, displayValue, envNameOf, parseSetting, sameValue, settingNamed, type FieldError, type SettingSource,
} from './validate.ts';

export interface Change { name: SettingName; before: unknown; after: unknown }
export type Preview = { ok: true; changes: Change[] } | { ok: false; errors: FieldError[] };
export type ApplyResult =
  | { ok: true; version: number; changes: Change[] }
  | { ok: false; reason: 'invalid'; errors: FieldError[] }
  | { ok: false; reason: 'conflict'; currentVersion: number };

/** Who changes settings: a console user or the CLI (src/admin/admin-events.ts AdminActor), or a plain name. */
export type Actor = string | { subject: string; name: string; via?: string };

type Checked = { ok: true; changes: Change[]; next: SettingValues } | { ok: false; errors: FieldError[] };

export interface WriteOptions { expectedVersion: number; actor: Actor }

export interface SettingDescription {
  name: SettingName;
  envName: string;
  group: string;
  label: string;
  value: unknown;
  display: string;
  source: SettingSource;
  editable: boolean;
  allowed: string;
  changedBy?: string;
  changedAt?: string;
}

export interface SettingsSnapshot {
  version: number;
  values: SettingValues;
  fixed: Partial<Record<SettingName, 'environment' | 'config file'>>;
}

export interface SettingsOptions {
  config: Config;
  store: Store;
  /** Where `admin.settings.changed` goes: the audit log in the server, the Store outbox in the CLI. */
  audit: AuditSink;
  log?: Logger;
}

/** How often each instance looks for a newer version: well inside the promised 30 seconds. */
export const POLL_MS = 5000;

/**
 * The live settings: values fixed by the environment or CONFIG_FILE, else the operators' stored
 * choices, else the defaults. Reads are in memory; a change is one new version in the Store
 * (compare-and-set on the version the operator saw) and one audit event.
 */
export class SettingsService {
  readonly #store: Store;
  readonly #audit: AuditSink;
  readonly #log: Logger | undefined;
  readonly #baseline: SettingValues;
  readonly #fixed: SettingsSnapshot['fixed'];
  #document: StoredSettings | undefined;
  #values: SettingValues;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SettingsOptions) {
    this.#store = options.store;
    this.#audit = options.audit;
    this.#log = options.log;
    this.#baseline = baselineOf(options.config);
    this.#fixed = Object.fromEntries(SETTING_NAMES.flatMap((name) => {
      const source = options.config.settingSources[name];
      return source ? [[name, source]] : [];
    }));
    this.#values = this.#baseline;
  }

  get version(): number {
    return this.#document?.version ?? 0;
  }

  current(): SettingValues {
    return this.#values;
  }

  describe(): SettingDescription[] {
    return SETTING_NAMES.map((name) => {
      const fixed = this.#fixed[name];
      const changed = fixed ? undefined : this.#document?.changed[name];
      const stored = !fixed && this.#document?.values[name] !== undefined;
      return {
        name, envName: envNameOf(name), group: SETTING_INFO[name].group, label: SETTING_INFO[name].label,
        value: this.#values[name], display: displayValue(name, this.#values[name]),
        source: fixed ?? (stored ? 'stored' : 'default'), editable: !fixed, allowed: allowedText(name),
        ...(stored && changed ? { changedBy: changed.by, changedAt: changed.at } : {}),
      };
    });
  }

  snapshot(): SettingsSnapshot {
    return { version: this.version, values: { ...this.#values }, fixed: { ...this.#fixed } };
  }

  /** What `changes` would do to the current values, or why they are refused. */
  preview(changes: Record<string, unknown>): Preview {
    const checked = this.#check(changes, false);
    return checked.ok ? { ok: true, changes: checked.changes } : checked;
  }

  async apply(changes: Record<string, unknown>, options: WriteOptions): Promise<ApplyResult> {
    return this.#write(options, () => this.#check(changes, false));
  }

  /** Import: the named settings take these values and every other editable one its default; all or nothing. */
  async replace(values: Record<string, unknown>, options: WriteOptions): Promise<ApplyResult> {
    return this.#write(options, () => this.#check(values, true));
  }

  /** Reads the newest stored version now. */
  async refresh(): Promise<void> {
    const latest = await readLatest(this.#store, this.#document);
    if (latest && latest.version !== this.version) this.#adopt(latest);
  }

  /** Polls the Store so changes made on other instances (or by the CLI) apply here within POLL_MS. */
  watch(intervalMs = POLL_MS): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.#log?.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'settings not refreshed; will retry'));
    }, intervalMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #adopt(document: StoredSettings): void {
    const values = { ...this.#baseline } as Record<SettingName, unknown>;
    for (const name of SETTING_NAMES) {
      const stored = document.values[name];
      if (stored === undefined || this.#fixed[name]) continue;
      const parsed = parseSetting(name, stored);
      if (parsed.ok) values[name] = parsed.value;
      else this.#log?.warn({ setting: name, version: document.version }, `stored setting ${name} is no longer valid (${parsed.message}); using ${displayValue(name, values[name])}`);
    }
    this.#document = document;
    this.#values = values as SettingValues;
  }

  /** Validates against the current values; `replace` resets every unnamed editable setting to its default. */
  #check(input: Record<string, unknown>, replace: boolean): Checked {
    const errors: FieldError[] = [];
    const next = { ...this.#values } as Record<SettingName, unknown>;
    if (replace) for (const name of SETTING_NAMES) if (!this.#fixed[name]) next[name] = this.#baseline[name];
    const named = new Set<SettingName>();
    for (const [given, raw] of Object.entries(input)) {
      const name = settingNamed(given);
      if (!name) {
        errors.push({ name: given, message: 'is not a setting that can be changed while the server runs' });
        continue;
      }
      named.add(name);
      const parsed = parseSetting(name, raw);
      if (!parsed.ok) {
        errors.push({ name: given, message: parsed.message, allowed: allowedText(name) });
        continue;
      }
      const fixed = this.#fixed[name];
      if (fixed && !sameValue(parsed.value, this.#values[name])) {
        const where = fixed === 'environment' ? `the environment (${envNameOf(name)})` : 'the configuration file (CONFIG_FILE)';
        errors.push({ name: given, message: `is fixed by ${where}; change it there` });
        continue;
      }
      next[name] = parsed.value;
    }
    if (errors.length === 0) errors.push(...crossFieldErrors(next as SettingValues, named));
    if (errors.length) return { ok: false, errors };
    const changes = SETTING_NAMES.filter((name) => !sameValue(next[name], this.#values[name]))
      .map((name) => ({ name, before: this.#values[name], after: next[name] }));
    return { ok: true, changes, next: next as SettingValues };
  }

  async #write(options: WriteOptions, check: () => Checked): Promise<ApplyResult> {
    await this.refresh();
    if (options.expectedVersion !== this.version) return { ok: false, reason: 'conflict', currentVersion: this.version };
    const checked = check();
    if (!checked.ok) return { ok: false, reason: 'invalid', errors: checked.errors };
    if (checked.changes.length === 0) return { ok: true, version: this.version, changes: [] };
    const actor = typeof options.actor === 'string' ? options.actor : options.actor.name;
    const previous = this.#document;
    const document = this.#nextDocument(checked.next, checked.changes, actor);
    if (!(await writeVersion(this.#store, document))) {
      await this.refresh();
      return { ok: false, reason: 'conflict', currentVersion: this.version };
    }
    this.#adopt(document);
    try {
      await this.#audit.append({
        type: 'admin.settings.changed', actor,
        ...(typeof options.actor === 'string' ? {} : { subject: options.actor.subject, ...(options.actor.via ? { via: options.actor.via } : {}) }),
        version: document.version, changes: checked.changes,
      });
    } catch (error) {
      await this.#undo(document, previous);
      throw error;
    }
    return { ok: true, version: document.version, changes: checked.changes };
  }

  #nextDocument(next: SettingValues, changes: Change[], actor: string): StoredSettings {
    const at = new Date().toISOString();
    const values: StoredSettings['values'] = {};
    const changed: StoredSettings['changed'] = {};
    for (const name of SETTING_NAMES) {
      if (this.#fixed[name] || sameValue(next[name], this.#baseline[name])) continue;
      values[name] = next[name];
      const earlier = this.#document?.changed[name];
      const touched = changes.some((change) => change.name === name);
      if (touched || !earlier) changed[name] = { by: actor, at };
      else changed[name] = earlier;
    }
    return { version: this.version + 1, values, changed, at, by: actor };
  }

  /** The change is not on the record, so it must not stand: a newer version puts the old values back. */
  async #undo(document: StoredSettings, previous: StoredSettings | undefined): Promise<void> {
    const restored: StoredSettings = {
      version: document.version + 1, values: previous?.values ?? {}, changed: previous?.changed ?? {}, at: new Date().toISOString(), by: 'undo',
    };
    if (await writeVersion(this.#store, restored)) this.#adopt(restored);
    else this.#log?.error({ version: document.version }, 'a settings change whose audit event failed could not be undone: a newer change came first');
  }
}

export async function openSettings(options: SettingsOptions): Promise<SettingsService> {
  const service = new SettingsService(options);
  await service.refresh();
  return service;
}

/** The values before any stored change: the configuration, with the second-factor default resolved. */
function baselineOf(config: Config): SettingValues {
  const values = Object.fromEntries(SETTING_NAMES.map((name) => [name, config[name]])) as Record<SettingName, unknown>;
  values.secondFactorRequired = config.secondFactorRequired?.length
    ? config.secondFactorRequired : config.nodeEnv === 'production' ? ['admin', 'approver'] : ['none'];
  return values as SettingValues;
}
