import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { KeyConfigError } from './errors.ts';

/** A private key encrypted with AES-256-GCM; `with` names the sealing key (a hash, not the key). */
export interface SealedKey {
  with: string;
  iv: string;
  tag: string;
  data: string;
}

interface SealingKey {
  id: string;
  key: Buffer;
}

/**
 * Encrypts private keys kept in the shared Store with keys derived (HKDF-SHA256) from the cookie
 * keys, the secret every instance already shares. Seals with the newest; opens with any, so a
 * cookie-key rotation keeps the ring readable while the old key is still listed.
 */
export class KeySealer {
  readonly #keys: SealingKey[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new TypeError('at least one secret is needed');
    this.#keys = secrets.map((secret) => {
      const key = Buffer.from(hkdfSync('sha256', secret, 'portcullis', 'signing key ring', 32));
      return { key, id: createHash('sha256').update(key).digest('base64url').slice(0, 16) };
    });
  }

  /** True when `sealed` was sealed with an older key than the newest. */
  isStale(sealed: SealedKey): boolean {
    return sealed.with !== this.#keys[0]!.id;
  }

  seal(plaintext: string, kid: string): SealedKey {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(kid));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { with: id, iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), data: data.toString('base64url') };
  }

  open(sealed: SealedKey, kid: string): string {
    const match = this.#keys.find((candidate) => candidate.id === sealed.with);
    if (!match) {
      throw new KeyConfigError('COOKIE_KEYS', 'the signing keys in the shared store are sealed with a cookie key this instance does not have; every instance must share COOKIE_KEYS');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', match.key, Buffer.from(sealed.iv, 'base64url')).setAAD(Buffer.from(kid));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyConfigError('REDIS_URL', `the signing key kid=${kid} in the shared store does not decrypt: it was altered`);
    }
  }
}
