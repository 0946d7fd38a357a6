/**
 * What export and import need from the live settings service (src/settings): its values with their
 * sources, validation by the start-up schemas, and an all-or-nothing replace guarded by a version.
 */
export interface SettingDescriptionLike {
  name: string;
  value: unknown;
  source: 'default' | 'stored' | 'environment' | 'config file';
  editable: boolean;
}

export interface FieldErrorLike {
  name: string;
  message: string;
  allowed?: string;
}

export type ReplaceResult =
  | { ok: true; version: number }
  | { ok: false; reason: 'invalid'; errors: FieldErrorLike[] }
  | { ok: false; reason: 'conflict'; currentVersion: number };

export interface SettingsPort {
  readonly version: number;
  describe(): SettingDescriptionLike[];
  preview(changes: Record<string, unknown>): { ok: true; changes: Array<{ name: string; before: unknown; after: unknown }> } | { ok: false; errors: FieldErrorLike[] };
  replace(values: Record<string, unknown>, options: { expectedVersion: number; actor: string }): Promise<ReplaceResult>;
  refresh(): Promise<void>;
}
