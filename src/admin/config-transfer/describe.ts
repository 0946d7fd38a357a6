import type { SignatureCheck } from '../../config/index.ts';
import type { Difference, SectionDiff } from './diff.ts';

/** A value in a line of text: settings show their value, longer entries are shortened. */
export function shortValue(value: unknown, max = 120): string {
  const text = Array.isArray(value) && value.every((item) => typeof item === 'string') ? value.join(', ') || '(none)' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** One line per difference: "+ key", "~ key: before -> after", "- key". */
export function differenceLines(section: SectionDiff): string[] {
  const line = (mark: string, entry: Difference, text: string) => `  ${mark} ${entry.key}${text}`;
  return [
    ...section.added.map((entry) => line('+', entry, section.id === 'settings' || section.id === 'roles.users' ? `: ${shortValue(entry.after)}` : '')),
    ...section.changed.map((entry) => line('~', entry, `: ${shortValue(entry.before, 50)} -> ${shortValue(entry.after, 50)}`)),
    ...section.removed.map((entry) => line('-', entry, '')),
  ];
}

export function signatureText(check: SignatureCheck): string {
  if (check.status === 'valid') return `signature: valid (key ${check.keyId})`;
  if (check.status === 'not_checked') return 'signature: not checked (no CONFIG_SIGNATURE_KEY is configured)';
  return `signature: refused: ${check.reason}`;
}
