import { z } from 'zod';
import { configSchema, ENV_NAMES } from '../config/schema.ts';
import { SETTING_INFO, SETTING_NAMES, type SettingName, type SettingValues } from './catalog.ts';

export interface FieldError {
  /** The name as given (a setting name, an environment name, or an unknown word). */
  name: string;
  message: string;
  allowed?: string;
}

export type SettingSource = 'default' | 'stored' | 'environment' | 'config file';

const byEnvName = new Map<string, SettingName>(SETTING_NAMES.map((name) => [ENV_NAMES[name], name]));

/** "tokenRateLimitPerClient" or "TOKEN_RATE_LIMIT_PER_CLIENT". */
export function settingNamed(input: string): SettingName | undefined {
  return (SETTING_NAMES as readonly string[]).includes(input) ? input as SettingName : byEnvName.get(input.toUpperCase());
}

export function envNameOf(name: SettingName): string {
  return ENV_NAMES[name];
}

/** The allowed values in words, read from the start-up schema's own limits. */
export function allowedText(name: SettingName): string {
  if (SETTING_INFO[name].allowed) return SETTING_INFO[name].allowed!;
  let schema: z.ZodType = configSchema.shape[name];
  while (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
  if (schema instanceof z.ZodEnum) return `one of ${(schema.options as string[]).join(', ')}`;
  if (schema instanceof z.ZodNumber) {
    const min = Number.isFinite(schema.minValue) ? schema.minValue : undefined;
    const max = Number.isFinite(schema.maxValue) && schema.maxValue! < Number.MAX_SAFE_INTEGER ? schema.maxValue : undefined;
    const kind = schema.isInt ? 'a whole number' : 'a number';
    if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
    if (min !== undefined) return `${kind}, at least ${min}`;
    if (max !== undefined) return `${kind}, at most ${max}`;
    return kind;
  }
  return 'see the configuration reference';
}

/** One value through the same field schema as start-up; strings are accepted as the environment would give them. */
export function parseSetting(name: SettingName, input: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  if (input === undefined || input === null) return { ok: false, message: 'a value is required' };
  const result = configSchema.shape[name].safeParse(typeof input === 'string' ? input.trim() : input);
  if (!result.success) return { ok: false, message: result.error.issues[0]!.message.replace(/\s+/g, ' ') };
  if (name === 'secondFactorRequired') {
    const roles = (result.data as string[] | undefined) ?? [];
    return { ok: true, value: roles.length ? roles : ['none'] };
  }
  return { ok: true, value: result.data };
}

/** Rules between settings that start-up checks too (src/config/load.ts). */
export function crossFieldErrors(values: SettingValues, changed: ReadonlySet<SettingName>): FieldError[] {
  if (values.cimdCacheMinSeconds <= values.cimdCacheMaxSeconds) return [];
  const name = changed.has('cimdCacheMinSeconds') || !changed.has('cimdCacheMaxSeconds') ? 'cimdCacheMinSeconds' : 'cimdCacheMaxSeconds';
  return [{
    name,
    message: `the shortest time a document is kept (${values.cimdCacheMinSeconds}) must not be more than the longest (${values.cimdCacheMaxSeconds})`,
    allowed: 'cimdCacheMinSeconds at most cimdCacheMaxSeconds',
  }];
}

/** The value as a person reads it. */
export function displayValue(name: SettingName, value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return name === 'cimdAllowedHosts' ? '(any public host)' : '(none)';
    return value.join(', ');
  }
  return String(value);
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
