/** `<prefix>/year=YYYY/month=MM/day=DD/<name>`: date-partitioned keys, so a date range maps to a few prefixes. */
export function objectKey(prefix: string, date: Date, name: string): string {
  const iso = date.toISOString();
  const partition = `year=${iso.slice(0, 4)}/month=${iso.slice(5, 7)}/day=${iso.slice(8, 10)}/${name}`;
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/${partition}` : partition;
}

/** The file name of one of our keys under `prefix`, or undefined for any other key (another log's, say). */
export function fileNameOf(prefix: string, key: string): string | undefined {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  const rest = trimmed ? (key.startsWith(`${trimmed}/`) ? key.slice(trimmed.length + 1) : undefined) : key;
  return rest ? /^year=\d{4}\/month=\d{2}\/day=\d{2}\/([^/]+)$/.exec(rest)?.[1] : undefined;
}
