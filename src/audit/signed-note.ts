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

export function signCheckpoint(checkpoint: Checkpoint, name: string, privateKey: KeyObject): string {
  const body = checkpointBody(checkpoint);
  const signature = sign(null, Buffer.from(body, 'utf8'), privateKey);
  return `${body}\n${SIGNATURE_PREFIX}${name} ${Buffer.concat([keyId(name, privateKey), signature]).toString('base64')}\n`;
}

export class NoteError extends Error {
  override readonly name = 'NoteError';
}

/** Checks the note's signature by `name`/`publicKey` and returns its checkpoint; throws NoteError saying what is wrong. */
export function openCheckpoint(note: string, name: string, publicKey: KeyObject): Checkpoint {
  const split = note.indexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('not a signed note');
  const body = note.slice(0, split + 1);
  const id = keyId(name, publicKey);
  const ours = note.slice(split + 2, -1).split('\n').filter((line) => line.startsWith(`${SIGNATURE_PREFIX}${name} `));
  const signed = ours.some((line) => {
    const blob = Buffer.from(line.slice(SIGNATURE_PREFIX.length + name.length + 1), 'base64');
    return blob.length === 68 && blob.subarray(0, 4).equals(id) && verify(null, Buffer.from(body, 'utf8'), publicKey, blob.subarray(4));
  });
  if (!signed) throw new NoteError(ours.length ? 'the signature does not verify with the audit key' : `no signature by ${name}`);
  const [origin, size, root, ...extensions] = body.slice(0, -1).split('\n');
  if (!origin || !/^\d+$/.test(size ?? '') || !root || extensions.some((line) => line === '')) throw new NoteError('not a checkpoint body');
  return { origin, size: Number(size), root: Buffer.from(root, 'base64') };
}
