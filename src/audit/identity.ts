import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/index.ts';
import type { AuditEvent } from './events.ts';
import type { LogFiles } from './files.ts';
import { NoteError, parseNote, signedBy, verifierKey, type NoteSigner } from './signed-note.ts';

/** A change of the log's signing identity to record before anything else, and who else signs the checkpoint after it. */
export interface Handover {
  event: AuditEvent;
  /** The old identity, when its key still exists: it vouches for the new one by signing too. */
  coSigners: NoteSigner[];
}

export interface IdentityCheck {
  dir: string;
  files: LogFiles;
  origin: string;
  key: KeyObject;
  /** The setting that supplies the key, for the error. */
  keySetting: string;
  /** `audit rotate-key --old-key-lost`: the key that signed the log is gone; record that instead of refusing. */
  oldKeyLost?: boolean;
}

/**
 * Compares the configured origin and key with what signed the newest checkpoint. The same: nothing
 * to record. Same key under another origin (PORT or ISSUER changed): an `audit.origin_changed`
 * handover, co-signed under the old origin. Another key: refused, never silently accepted, unless
 * the operator declares the old key lost.
 */
export async function checkIdentity(check: IdentityCheck): Promise<Handover | undefined> {
  const newest = check.files.checkpoints.at(-1);
  if (!newest) return undefined;
  let note;
  try {
    note = parseNote(await readFile(join(check.dir, newest.name), 'utf8'));
  } catch (error) {
    if (error instanceof NoteError) throw new ConfigError('AUDIT_DIR', `${newest.name} is damaged (${error.message}); run portcullis audit verify`);
    throw error;
  }
  if (signedBy(note, check.origin, check.key)) {
    if (check.oldKeyLost) throw new ConfigError(check.keySetting, 'the configured audit key still signs this log: it is not lost');
    return undefined;
  }
  const oldName = note.signatures.find((line) => signedBy(note, line.name, check.key))?.name;
  const to_key = verifierKey(check.origin, check.key);
  if (oldName) {
    return {
      event: { type: 'audit.origin_changed', from_origin: oldName, to_origin: check.origin, from_key: verifierKey(oldName, check.key), to_key },
      coSigners: [{ name: oldName, key: check.key }],
    };
  }
  const signer = note.signatures[0];
  const held = signer ? `${signer.name} key id ${signer.keyId}` : 'no key';
  if (check.oldKeyLost) {
    return { event: { type: 'audit.key_rotated', old_key: 'lost', from_origin: signer?.name, from_key_id: signer?.keyId, to_key }, coSigners: [] };
  }
  throw new ConfigError(check.keySetting, `the audit key is not the one that signs ${check.dir} (${newest.name} is signed by ${held}): restore that key, or if it is lost run portcullis audit rotate-key --old-key-lost`);
}
