import { parseDateBound, type AuditQuery } from '../../audit/index.ts';

/** The audit page's query string fields, as typed (shown again in the form). */
export const FILTER_FIELDS = ['from', 'to', 'type', 'subject', 'client', 'tool', 'size', 'before'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];
export type FilterValues = Record<FilterField, string>;

export const FIELD_LABELS: Record<FilterField, string> = {
  from: 'From', to: 'To', type: 'Event type', subject: 'Subject', client: 'Client', tool: 'Tool', size: 'Records per page', before: 'Older than record',
};

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
const MAX_TEXT = 200;

export type ParsedFilters =
  | { ok: true; values: FilterValues; query: AuditQuery; before: number | undefined; size: number }
  | { ok: false; values: FilterValues; field: FilterField; problem: string };

/** Reads and checks the audit page's filters; a bad value names its field and nothing is read from the log. */
export function parseFilters(input: Record<string, string | string[] | undefined>): ParsedFilters {
  const values = Object.fromEntries(FILTER_FIELDS.map((field) => [field, first(input[field]).trim()])) as FilterValues;
  const refuse = (field: FilterField, problem: string): ParsedFilters => ({ ok: false, values, field, problem: `${FIELD_LABELS[field]}: ${problem}` });
  const repeated = FILTER_FIELDS.find((field) => Array.isArray(input[field]));
  if (repeated) return refuse(repeated, 'give it once');
  const from = values.from ? parseDateBound(values.from, 'start') : undefined;
  if (values.from && !from) return refuse('from', 'not a date (use 2026-01-31 or 2026-01-31T12:00:00Z)');
  const to = values.to ? parseDateBound(values.to, 'end') : undefined;
  if (values.to && !to) return refuse('to', 'not a date (use 2026-01-31 or 2026-01-31T12:00:00Z)');
  if (from && to && from > to) return refuse('to', 'must not be before From');
  if (values.type && !/^[a-z][a-z_]*(\.[a-z_]+)+$/.test(values.type)) return refuse('type', 'an event type such as login.failed or admin.user.disabled');
  for (const field of ['type', 'subject', 'client', 'tool'] as const) {
    if (values[field].length > MAX_TEXT) return refuse(field, `at most ${MAX_TEXT} characters`);
    if (/[\u0000-\u001f\u007f]/.test(values[field])) return refuse(field, 'letters, digits and punctuation only');
  }
  if (values.size && !(/^\d{1,3}$/.test(values.size) && Number(values.size) >= 1 && Number(values.size) <= MAX_PAGE_SIZE)) return refuse('size', `a number from 1 to ${MAX_PAGE_SIZE}`);
  if (values.before && !/^\d{1,15}$/.test(values.before)) return refuse('before', 'a record number');
  return {
    ok: true, values,
    query: { from, to, type: values.type || undefined, subject: values.subject || undefined, client: values.client || undefined, tool: values.tool || undefined },
    before: values.before ? Number(values.before) : undefined,
    size: values.size ? Number(values.size) : DEFAULT_PAGE_SIZE,
  };
}

const first = (value: string | string[] | undefined): string => (Array.isArray(value) ? value[0] ?? '' : value ?? '');
