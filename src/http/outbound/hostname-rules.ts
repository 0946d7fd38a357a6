/** Names that only mean something inside a network (RFC 6761/6762, RFC 8375, common private TLDs). */
const INTERNAL_SUFFIXES = ['localhost', 'local', 'localdomain', 'internal', 'intranet', 'corp', 'lan', 'home', 'home.arpa', 'private'];

/** The host name as compared: lower case, without the trailing dot of a fully qualified name. */
export function normalizeHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, '');
}

export function isLoopbackName(hostname: string): boolean {
  const name = normalizeHostname(hostname);
  return name === 'localhost' || name.endsWith('.localhost');
}

/** Undefined for a name that may be public; otherwise why it is internal. */
export function internalHostnameProblem(hostname: string): string | undefined {
  const name = normalizeHostname(hostname);
  const suffix = INTERNAL_SUFFIXES.find((candidate) => name === candidate || name.endsWith(`.${candidate}`));
  if (suffix) return `${name} is an internal host name (.${suffix})`;
  if (!name.includes('.')) return `${name} is a single-label host name`;
  return undefined;
}
