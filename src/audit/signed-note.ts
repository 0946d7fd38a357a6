import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * C2SP tlog-checkpoint bodies ("<origin>\n<tree size>\n<base64 root hash>\n") in the C2SP
 * signed-note format with one Ed25519 signature line: "— <key name> base64(key id || signature)".
 * The key id is the first 4 bytes of SHA-256(<key name> "\n" 0x01 <32-byte public key>).
 */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

const ED25519_ALGORITHM = 0x01;
const SIGNATURE_PREFIX = '\u2014 ';

export function checkpointBody(checkpoint: Checkpoint): string {
  return `${checkpoint.origin}\n${checkpoint.size}\n${checkpoint.root.toString('base64')}\n`;
}

export function rawPublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

export function keyId(name: string, publicKey: KeyObject): Buffer {
  return createHash('sha256').update(`${name}\n`).update(Buffer.of(ED25519_ALGORITHM)).update(rawPublicKey(publicKey)).digest().subarray(0, 4);
}

/** The note verifier key string, `<name>+<hex key id>+<base64(0x01 || public key)>`, to hand to third parties. */
export function verifierKey(name: string, key: KeyObject): string {
  return `${name}+${keyId(name, key).toString('hex')}+${Buffer.concat([Buffer.of(ED25519_ALGORITHM), rawPublicKey(key)]).toString('base64')}`;
}

/** Parses a verifier key string back into its name and public key. */
export function parseVerifierKey(text: string): { name: string; publicKey: KeyObject } {
  // Split on the first two "+" only: the base64 key itself may contain "+".
  const [name, id, ...encoded] = text.trim().split('+');
  const raw = Buffer.from(encoded.join('+'), 'base64');
  if (!name || !id || raw.length !== 33 || raw[0] !== ED25519_ALGORITHM) throw new Error('not an Ed25519 note verifier key');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' });
  if (keyId(name, publicKey).toString('hex') !== id) throw new Error('the verifier key id does not match its key');
  return { name, publicKey };
}

export interface NoteSigner {
  name: string;
  key: KeyObject;
}

/** A checkpoint note signed by each signer in turn (several when the log hands over from one key or origin to the next). */
export function signCheckpoint(checkpoint: Checkpoint, signers: NoteSigner[]): string {
  const body = checkpointBody(checkpoint);
  const lines = signers.map(({ name, key }) => `${SIGNATURE_PREFIX}${name} ${Buffer.concat([keyId(name, key), sign(null, Buffer.from(body, 'utf8'), key)]).toString('base64')}\n`);
  return `${body}\n${lines.join('')}`;
}

export class NoteError extends Error {
  override readonly name = 'NoteError';
}

export interface NoteSignature {
  name: string;
  /** Hex key id. */
  keyId: string;
  signature: Buffer;
}

export interface ParsedNote {
  body: string;
  checkpoint: Checkpoint;
  signatures: NoteSignature[];
}

/** Splits a checkpoint note into its body and signature lines, checking no signature; throws NoteError when it is not one. */
export function parseNote(note: string): ParsedNote {
  const split = note.indexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('not a signed note');
  const body = note.slice(0, split + 1);
  const signatures = note.slice(split + 2, -1).split('\n').flatMap((line) => {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    const blob = match ? Buffer.from(match[2]!, 'base64') : undefined;
    return match && blob!.length === 68 ? [{ name: match[1]!, keyId: blob!.subarray(0, 4).toString('hex'), signature: blob!.subarray(4) }] : [];
  });
  const [origin, size, root, ...extensions] = body.slice(0, -1).split('\n');
  if (!origin || !/^\d+$/.test(size ?? '') || !root || extensions.some((line) => line === '')) throw new NoteError('not a checkpoint body');
  return { body, checkpoint: { origin, size: Number(size), root: Buffer.from(root, 'base64') }, signatures };
}

/** Whether `name`/`publicKey` signed the note. */
export function signedBy(note: ParsedNote, name: string, publicKey: KeyObject): boolean {
  const id = keyId(name, publicKey).toString('hex');
  return note.signatures.some((line) => line.name === name && line.keyId === id && verify(null, Buffer.from(note.body, 'utf8'), publicKey, line.signature));
}

/** Checks the note's signature by `name`/`publicKey` and returns its checkpoint; throws NoteError saying what is wrong. */
export function openCheckpoint(note: string, name: string, publicKey: KeyObject): Checkpoint {
  const parsed = parseNote(note);
  if (!signedBy(parsed, name, publicKey)) {
    throw new NoteError(parsed.signatures.some((line) => line.name === name) ? 'the signature does not verify with the audit key' : `no signature by ${name}`);
  }
  return parsed.checkpoint;
}
