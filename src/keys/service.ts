import type { Store } from '../storage/index.ts';
import { KeyChangeRefusedError, withNextKey, withRetiredKey } from './changes.ts';
import { KeyConfigError, printable } from './errors.ts';
import { createKeyRing } from './keyring.ts';
import type { KeyOrigin, KeyRing } from './keyring.ts';
import { changeManifest, generateKey, listKeys, loadKeysDir } from './keys-dir.ts';
import type { LoadedKey } from './keys-dir.ts';
import { loadFixedKeyRing } from './load.ts';
import type { KeyInfo } from './manifest.ts';
import { inUseUntil } from './schedule.ts';
import { KeySealer } from './sealed.ts';
import { StoreKeys } from './store-keys.ts';

export interface SigningKeysOptions {
  /** RSA_PRIVATE_KEY_PEM / RSA_PRIVATE_KEY_PATH / KEYS_DIR, as for loadKeyRing. */
  pem?: string | undefined;
  secretPath: string;
  keysDir: string;
  /** The shared Store when instances share one (Redis): the ring lives there, sealed with the cookie keys. */
  shared?: { store: Store; cookieKeys: readonly string[] } | undefined;
  /** KEY_ACTIVATION_DELAY_SECONDS: how long a new key is published before it signs. */
  activationDelaySeconds: number;
  /** The longest access-token lifetime: retiring a key sooner after it stopped signing warns. */
  tokenLifetimeSeconds: number;
}

/**
 * Puts a change on the record before it is made (write-ahead); throws when it cannot, and then
 * nothing changes. The console and the CLI pass one that names the admin.
 */
export type RecordKeyChange = (event: { type: 'admin.keys.rotated' | 'admin.keys.retired'; kid: string; [detail: string]: unknown }) => Promise<void>;

/** A key as pages and the CLI show it. */
export interface KeyView extends KeyInfo {
  /** Tokens it signed may be presented until then (ISO 8601), for a published key that signed recently. */
  inUseUntil?: string;
}

interface Backend {
  readonly origin: KeyOrigin;
  /** Where keys are kept, for messages ("KEYS_DIR (./keys)", "the shared store"). */
  readonly where: string;
  list(): Promise<KeyInfo[]>;
  load(): Promise<LoadedKey[]>;
  change(change: (keys: KeyInfo[], now: Date) => KeyInfo[], added?: { kid: string; privateKey: LoadedKey['privateKey'] }): Promise<KeyInfo[]>;
}

/**
 * Rotate, retire and list the signing keys; the console and the CLI both go through it, and the
 * running server reloads the ring from it (see watchKeyRing). A key from RSA_PRIVATE_KEY_PEM or a
 * mounted file is fixed: rotate it where it is kept.
 */
export class SigningKeys {
  readonly #backend: Backend | undefined;
  readonly #fixed: KeyRing | undefined;
  readonly #options: SigningKeysOptions;

  private constructor(options: SigningKeysOptions, backend: Backend | undefined, fixed: KeyRing | undefined) {
    this.#options = options;
    this.#backend = backend;
    this.#fixed = fixed;
  }

  /** Opens the configured source; on a shared Store with no ring yet, seeds it from KEYS_DIR (generating the first key). */
  static async open(options: SigningKeysOptions): Promise<SigningKeys> {
    const first = await loadFixedKeyRing(options);
    if (first) return new SigningKeys(options, undefined, first);
    if (!options.shared) return new SigningKeys(options, dirBackend(options.keysDir), undefined);
    const stored = new StoreKeys(options.shared.store, new KeySealer(options.shared.cookieKeys));
    if ((await stored.load()) === undefined) await stored.seed((await loadKeysDir(options.keysDir)).keys);
    return new SigningKeys(options, storeBackend(stored), undefined);
  }

  /** True when the keys come from RSA_PRIVATE_KEY_PEM or a mounted file, which this server cannot change. */
  get fixed(): boolean {
    return this.#fixed !== undefined;
  }

  get origin(): KeyOrigin {
    return this.#fixed?.origin ?? this.#backend!.origin;
  }

  /** The ring as it stands now (a due rotation done). */
  async ring(): Promise<KeyRing> {
    if (this.#fixed) return this.#fixed;
    const keys = await this.#backend!.load();
    const ringKeys = keys.map(({ info, privateKey }) => ({ kid: info.kid, status: info.status, privateKey }));
    return createKeyRing(this.#backend!.origin.setting === 'KEYS_DIR' ? 'keys-dir' : 'store', this.#backend!.origin, ringKeys);
  }

  /** Every key, oldest first, with when tokens it signed stop being valid. */
  async list(): Promise<KeyView[]> {
    if (this.#fixed) return [{ kid: this.#fixed.signingKid, createdAt: '', status: 'signing' }];
    const lifetime = this.#options.tokenLifetimeSeconds;
    const now = Date.now();
    return (await this.#backend!.list()).map((key) => {
      const until = inUseUntil(key, lifetime);
      return until && until.getTime() > now ? { ...key, inUseUntil: until.toISOString() } : key;
    });
  }

  /** Publishes a new key now; it signs after the activation delay. Refused for a fixed key or while a rotation is under way. */
  async rotate(record: RecordKeyChange): Promise<KeyInfo> {
    const backend = this.#changeable();
    const added = await generateKey();
    const start = new Date();
    const activatesAt = new Date(start.getTime() + this.#options.activationDelaySeconds * 1000);
    withNextKey(await backend.list(), added.kid, start, activatesAt, backend.origin.setting); // refusals before the record
    await record({ type: 'admin.keys.rotated', kid: added.kid, activates_at: activatesAt.toISOString() });
    const keys = await backend.change((current, now) => withNextKey(current, added.kid, now, activatesAt, backend.origin.setting), added);
    return keys.find((candidate) => candidate.kid === added.kid)!;
  }

  /**
   * Takes a key out of the JWKS; refuses the signer. `warning` says when tokens it signed were
   * still valid: they fail from now on.
   */
  async retire(kid: string, record: RecordKeyChange): Promise<{ key: KeyInfo; warning?: string }> {
    const backend = this.#changeable();
    const where = { setting: backend.origin.setting, name: backend.where };
    const before = (await this.list()).find((key) => key.kid === kid);
    const retired = withRetiredKey(await backend.list(), kid, where).find((key) => key.kid === kid)!; // refusals before the record
    if (before?.status === 'retired') return { key: retired };
    await record({ type: 'admin.keys.retired', kid, ...(before?.inUseUntil ? { tokens_valid_until: before.inUseUntil } : {}) });
    const keys = await backend.change((current) => withRetiredKey(current, kid, where));
    const key = keys.find((candidate) => candidate.kid === kid)!;
    return before?.inUseUntil ? { key, warning: `Tokens signed by this key were valid until ${before.inUseUntil}; they no longer verify.` } : { key };
  }

  #changeable(): Backend {
    if (this.#backend) return this.#backend;
    const { setting } = this.#fixed!.origin;
    throw new KeyChangeRefusedError(setting, 'fixed', `the signing key comes from ${setting}, so this server cannot change it: rotate it where it is kept`);
  }
}

function dirBackend(dir: string): Backend {
  return {
    origin: { setting: 'KEYS_DIR', path: dir },
    where: printable(dir),
    list: () => listKeys(dir),
    load: async () => (await loadKeysDir(dir)).keys,
    change: (change, added) => changeManifest(dir, change, added),
  };
}

function storeBackend(stored: StoreKeys): Backend {
  return {
    origin: { setting: 'REDIS_URL' },
    where: 'the shared store',
    list: () => stored.list(),
    load: async () => {
      const keys = await stored.load();
      if (!keys) throw new KeyConfigError('REDIS_URL', 'the signing key ring is missing from the shared store');
      return keys;
    },
    change: (change, added) => stored.change(change, added),
  };
}
