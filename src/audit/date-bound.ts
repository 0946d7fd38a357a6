/**
 * A query's date bound from an ISO date or date-time; a bare date (2026-01-31) means the start
 * (`from`) or the end (`to`) of that day, UTC. Undefined when the text is not a date.
 */
export function parseDateBound(value: string, edge: 'start' | 'end'): Date | undefined {
  const bareDate = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const time = Date.parse(bareDate ? `${value}T${edge === 'start' ? '00:00:00.000' : '23:59:59.999'}Z` : value);
  return Number.isNaN(time) ? undefined : new Date(time);
}
