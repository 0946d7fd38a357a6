/** A value fixed at start, or read anew at each use (a live setting). */
export type Live<T> = T | (() => T);

export function valueOf<T>(live: Live<T>): T {
  return typeof live === 'function' ? (live as () => T)() : live;
}
