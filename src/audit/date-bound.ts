const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * A query's date bound from an ISO date or date-time; a bare date (2026-01-31) means the start
 * (`from`) or the end (`to`) of that day, UTC; a time without a zone is UTC too. Undefined when the
 * text is not one (2026-02-30 is not).
 */
export function parseDateBound(value: string, edge: 'start' | 'end'): Date | undefined {
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number];
  const calendarDay = new Date(Date.UTC(year, month - 1, day));
  if (calendarDay.getUTCMonth() !== month - 1 || calendarDay.getUTCDate() !== day) return undefined;
  const bareDate = value.length === 10;
  // A time without a zone is UTC, like a bare date, whatever the server's own time zone.
  const zoned = /(Z|[+-]\d{2}:\d{2})$/.test(value) ? value : `${value}Z`;
  const time = Date.parse(bareDate ? `${value}T${edge === 'start' ? '00:00:00.000' : '23:59:59.999'}Z` : zoned);
  return Number.isNaN(time) ? undefined : new Date(time);
}
