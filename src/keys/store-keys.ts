import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Store } from '../storage/index.ts';
import { KeyConfigError } from './errors.ts';
import { computeKid } from './jwk.ts';
import type { LoadedKey } from './keys-dir.ts';
import { parseManifest } from './manifest.ts';
import type { KeyInfo } from './manifest.ts';
import { parseRsaPrivateKey, toPkcs8Pem } from './private-key.ts';
import { keysAt } from './schedule.ts';
import type { KeySealer, SealedKey } from './sealed.ts';

const RING = 'signing-keys:ring';
const LOCK = 'signing-keys:lock';
const LOCK_SECONDS = 30;
const WAIT_FOR_LOCK_MS = 10_000;

type StoredKey = KeyInfo & { sealed?: SealedKey };

interface StoredRing {
  /** Changes with every write: instances compare it to notice a change. */
  version: string;
  keys: StoredKey[];
}

/**
 * The key ring kept in the shared Store (Redis), so every instance reads the same keys.
 * Private keys are sealed (AES-256-GCM); a retired key's private part is dropped.
 */
export class StoreKeys {
  readonly #store: Store;
  readonly #sealer: KeySealer;

  constructor(store: Store, sealer: KeySealer) {
    this.#store = store;
    this.#sealer = sealer;
  }

  /** Every key as it stands now, oldest first; empty when the Store holds no ring yet. */
  async list(): Promise<KeyInfo[]> {
    const ring = await this.#read();
    return ring ? keysAt(infos(ring), new Date()) : [];
  }

  /** The signing and published keys with their private parts; undefined when the Store holds no ring yet. */
  async load(): Promise<LoadedKey[] | undefined> {
    const ring = await this.#read();
    if (!ring) return undefined;
    const sealed = new Map(ring.keys.map((key) => [key.kid, key.sealed]));
    const active = keysAt(infos(ring), new Date()).filter((key) => key.status !== 'retired');
    return Promise.all(active.map(async (info) => ({ info, privateKey: await this.#open(info.kid, sealed.get(info.kid)) })));
  }

  /** Stores `keys` as the ring unless one is there already (the first instance on a new Redis seeds it). */
  async seed(keys: readonly LoadedKey[]): Promise<boolean> {
    const ring: StoredRing = { version: randomUUID(), keys: keys.map(({ info, privateKey }) => this.#sealed(info, privateKey)) };
    return this.#store.putIfAbsent(RING, ring);
  }

  /** Applies `change` to the ring as it stands now, one instance or command at a time. */
  async change(change: (keys: KeyInfo[], now: Date) => KeyInfo[], added?: { kid: string; privateKey: KeyObject }): Promise<KeyInfo[]> {
    return this.#locked(async () => {
      const ring = await this.#read();
      const sealed = new Map((ring?.keys ?? []).map((key) => [key.kid, key.sealed]));
      if (added) sealed.set(added.kid, this.#sealer.seal(toPkcs8Pem(added.privateKey), added.kid));
      const now = new Date();
      const keys = keysAt(change(keysAt(ring ? infos(ring) : [], now), now), now);
      const stored = await Promise.all(keys.map(async (info): Promise<StoredKey> => {
        if (info.status === 'retired') return info;
        const current = sealed.get(info.kid);
        // Re-seal with the newest cookie key, so an older one can leave COOKIE_KEYS after any change.
        return current && !this.#sealer.isStale(current) ? { ...info, sealed: current } : this.#sealed(info, await this.#open(info.kid, current));
      }));
      await this.#store.put(RING, { version: randomUUID(), keys: stored } satisfies StoredRing);
      return keys;
    });
  }

  #sealed(info: KeyInfo, privateKey: KeyObject): StoredKey {
    return { ...info, sealed: this.#sealer.seal(toPkcs8Pem(privateKey), info.kid) };
  }

  async #open(kid: string, sealed: SealedKey | undefined): Promise<KeyObject> {
    if (!sealed) throw new KeyConfigError('REDIS_URL', `the shared store lists kid=${kid} without its key`);
    const privateKey = parseRsaPrivateKey(this.#sealer.open(sealed, kid), 'REDIS_URL', `kid=${kid}`);
    if ((await computeKid(privateKey)) !== kid) throw new KeyConfigError('REDIS_URL', `the shared store holds a different key under kid=${kid}`);
    return privateKey;
  }

  async #read(): Promise<StoredRing | undefined> {
    return (await this.#store.get<StoredRing>(RING))?.value;
  }

  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    const owner = randomUUID();
    const deadline = Date.now() + WAIT_FOR_LOCK_MS;
    while (!(await this.#store.putIfAbsent(LOCK, owner, { ttlSeconds: LOCK_SECONDS }))) {
      if (Date.now() > deadline) throw new KeyConfigError('REDIS_URL', 'another change to the signing keys is under way; try again in a minute');
      await delay(50);
    }
    try {
      return await fn();
    } finally {
      // Only our own lock: one that expired under us may belong to someone else by now.
      if ((await this.#store.get<string>(LOCK))?.value === owner) await this.#store.delete(LOCK);
    }
  }
}

function infos(ring: StoredRing): KeyInfo[] {
  return parseManifest(JSON.stringify({ version: 1, keys: ring.keys.map(({ sealed: _sealed, ...info }) => info) }), 'the signing key ring in the shared store');
}
