import { sign, verify } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.ts';
import type { ConfigSignatureKey } from './signature-key.ts';

/**
 * A signed JSON document (a configuration export or CONFIG_FILE) carries its Ed25519 signature in a
 * `signature` member. What is signed is the canonical JSON of the document without that member, so
 * re-indenting or reordering keys keeps it valid and any change of a value breaks it.
 */
export interface DocumentSignature {
  alg: 'Ed25519';
  key_id: string;
  /** base64url of the 64-byte signature. */
  value: string;
}

export type SignatureCheck =
  | { status: 'valid'; keyId: string }
  /** No key is configured, so nothing was checked. */
  | { status: 'not_checked' }
  | { status: 'refused'; reason: string };

type JsonObject = Record<string, unknown>;

function signedBytes(document: JsonObject): Buffer {
  const { signature: _ignored, ...body } = document;
  return Buffer.from(canonicalJson(body), 'utf8');
}

/** The document with a `signature` member made with the private key (any previous signature replaced). */
export function signDocument<T extends JsonObject>(document: T, key: ConfigSignatureKey): T & { signature: DocumentSignature } {
  if (!key.privateKey) throw new TypeError('CONFIG_SIGNATURE_KEY holds only a public key: sign where the private key is');
  const value = sign(null, signedBytes(document), key.privateKey).toString('base64url');
  const { signature: _old, ...body } = document;
  return { ...(body as T), signature: { alg: 'Ed25519', key_id: key.keyId, value } };
}

/** Checks the `signature` member against the key; every refusal reason is a plain sentence ending in no full stop. */
export function checkSignature(document: JsonObject, key: ConfigSignatureKey | undefined): SignatureCheck {
  if (!key) return { status: 'not_checked' };
  const signature = document.signature as Partial<DocumentSignature> | undefined;
  if (signature === undefined) return { status: 'refused', reason: 'it is not signed' };
  if (typeof signature !== 'object' || signature === null || signature.alg !== 'Ed25519' || typeof signature.value !== 'string' || typeof signature.key_id !== 'string') {
    return { status: 'refused', reason: 'its signature is not in the expected form ({"alg":"Ed25519","key_id":...,"value":...})' };
  }
  if (signature.key_id !== key.keyId) return { status: 'refused', reason: `it was signed with another key (${signature.key_id}, not ${key.keyId})` };
  const valid = verify(null, signedBytes(document), key.publicKey, Buffer.from(signature.value, 'base64url'));
  return valid ? { status: 'valid', keyId: key.keyId } : { status: 'refused', reason: 'its signature does not match its contents: it was changed after it was signed' };
}
