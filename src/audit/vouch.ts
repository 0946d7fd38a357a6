import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent } from './events.ts';
import type { LogFiles } from './files.ts';
import { listLogFiles, segmentLines } from './read-log.ts';
import { parseRecord } from './records.ts';
import { keyId, parseNote, parseVerifierKey, signedBy, verifierKey, type ParsedNote } from './signed-note.ts';

/** A checkpoint signer: key name (an origin) and public key. */
export interface Identity {
  name: string;
  publicKey: KeyObject;
}

/** What the log recorded about itself: a handover (`audit.origin_changed`, `audit.key_rotated`) or `audit.recovered`. */
export interface RecordedHandover {
  seq: number;
  type: string;
  event: AuditEvent;
  from?: string;
  to?: string;
  /** The old key was declared lost (`audit rotate-key --old-key-lost`): nobody vouched for the new one. */
  lost?: { name: string; keyId: string };
}

export const HISTORY_TYPES = new Set(['audit.origin_changed', 'audit.key_rotated', 'audit.recovered']);

/** Every event the log recorded about itself from record `fromSeq` on, oldest first. */
export async function handoversIn(dir: string, fromSeq = 0): Promise<RecordedHandover[]> {
  const found: RecordedHandover[] = [];
  const { segments } = await listLogFiles(dir);
  const first = Math.max(0, segments.findLastIndex((segment) => segment.firstSeq <= fromSeq));
  for (const segment of segments.slice(first)) {
    // Canonical JSON has no spaces: only lines holding this text can be one of the log's own events.
    for await (const line of segmentLines(dir, segment)) {
      if (!line.includes('"type":"audit.')) continue;
      const record = parseRecord(line);
      if (!record || record.seq < fromSeq || !HISTORY_TYPES.has(record.event.type)) continue;
      const { event } = record;
      found.push({
        seq: record.seq, type: event.type, event,
        ...(typeof event.from_key === 'string' ? { from: event.from_key } : {}),
        ...(typeof event.to_key === 'string' ? { to: event.to_key } : {}),
        ...(event.old_key === 'lost' ? { lost: { name: String(event.from_origin), keyId: String(event.from_key_id) } } : {}),
      });
    }
  }
  return found;
}

/**
 * The identities the log vouches for, starting from the one the reader trusts. A handover links
 * two: the newer vouches for the older (it signs every tree that records the handover), and the
 * older vouches for the newer only if it signed the first checkpoint after the handover (a lost
 * key cannot, so a key named after a loss is trusted only by being the reader's own).
 */
export async function vouchedIdentities(dir: string, files: LogFiles, trusted: Identity, handovers: RecordedHandover[]): Promise<Identity[]> {
  const vouched = new Map<string, Identity>([[verifierKey(trusted.name, trusted.publicKey), trusted]]);
  const notes = new Map<number, ParsedNote | undefined>();
  const noteAfter = async (seq: number) => {
    const checkpoint = files.checkpoints.find((candidate) => candidate.size > seq);
    if (!checkpoint) return undefined;
    if (!notes.has(checkpoint.size)) notes.set(checkpoint.size, await readFile(join(dir, checkpoint.name), 'utf8').then(parseNote).catch(() => undefined));
    return notes.get(checkpoint.size);
  };
  let grew = true;
  while (grew) {
    grew = false;
    for (const handover of handovers) {
      if (!handover.from || !handover.to) continue;
      const from = identityOf(handover.from);
      const to = identityOf(handover.to);
      if (!from || !to) continue;
      if (vouched.has(handover.to) && !vouched.has(handover.from)) {
        vouched.set(handover.from, from);
        grew = true;
      }
      const note = vouched.has(handover.from) && !vouched.has(handover.to) ? await noteAfter(handover.seq) : undefined;
      if (note && signedBy(note, from.name, from.publicKey)) {
        vouched.set(handover.to, to);
        grew = true;
      }
    }
  }
  return [...vouched.values()];
}

/**
 * The signers a declared key loss explains for a checkpoint of `size` records made before it:
 * the lost key and every identity the log handed over between before the loss.
 */
export function explainedByLoss(handovers: RecordedHandover[], size: number): Set<string> {
  const explained = new Set<string>();
  for (const loss of handovers.filter((handover) => handover.lost && handover.seq >= size)) {
    explained.add(`${loss.lost!.name} key id ${loss.lost!.keyId}`);
    for (const earlier of handovers.filter((handover) => handover.seq < loss.seq)) {
      for (const identity of [earlier.from, earlier.to].map((text) => text && identityOf(text))) {
        if (identity) explained.add(`${identity.name} key id ${keyId(identity.name, identity.publicKey).toString('hex')}`);
      }
      if (earlier.lost) explained.add(`${earlier.lost.name} key id ${earlier.lost.keyId}`);
    }
  }
  return explained;
}

function identityOf(text: string): Identity | undefined {
  try {
    return parseVerifierKey(text);
  } catch {
    return undefined;
  }
}

export interface SignatureVerdict {
  /** Vouched identities whose signature verifies. */
  valid: Identity[];
  /** A signature by a vouched key id that does not verify: forged or damaged. */
  forged: boolean;
  /** Signers this log never vouched for ("name key id"). */
  unknown: string[];
}

export function judgeSignatures(note: ParsedNote, vouched: Identity[]): SignatureVerdict {
  const valid = vouched.filter((identity) => signedBy(note, identity.name, identity.publicKey));
  const ids = new Set(vouched.map((identity) => `${identity.name} ${keyId(identity.name, identity.publicKey).toString('hex')}`));
  const forged = valid.length === 0 && note.signatures.some((line) => ids.has(`${line.name} ${line.keyId}`));
  const unknown = note.signatures.filter((line) => !ids.has(`${line.name} ${line.keyId}`)).map((line) => `${line.name} key id ${line.keyId}`);
  return { valid, forged, unknown };
}

export function publicIdentity(name: string, key: KeyObject): Identity {
  return { name, publicKey: key.type === 'private' ? createPublicKey(key) : key };
}
