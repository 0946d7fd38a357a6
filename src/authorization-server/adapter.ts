import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Store } from '../storage/index.ts';

/** Store key of an oidc-provider model instance; the CLI writes clients under the same key. */
export const modelKey = (model: string, id: string) => `oidc:${model}:${id}`;

const grantTag = (grantId: string) => `oidc:grant:${grantId}`;
const uidTag = (uid: string) => `oidc:uid:${uid}`;
const userCodeTag = (userCode: string) => `oidc:userCode:${userCode}`;

/**
 * oidc-provider's adapter on the Store seam: one class per model name, as oidc-provider expects.
 * `consume` is the Store's atomic consume, so of two concurrent exchanges of one code only the
 * first sees an unconsumed code.
 */
export function storeAdapter(store: Store): new (model: string) => Adapter {
  return class StoreAdapter implements Adapter {
    readonly #model: string;
    constructor(model: string) {
      this.#model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const tags = [
        payload.grantId && grantTag(payload.grantId),
        payload.uid && uidTag(payload.uid),
        payload.userCode && userCodeTag(payload.userCode),
        // Dynamically registered clients join the CLI's ones, so `portcullis clients list` shows them.
        this.#model === 'Client' && 'clients',
      ].filter((tag): tag is string => Boolean(tag));
      await store.put(modelKey(this.#model, id), payload, { ttlSeconds: expiresIn || undefined, tags });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return this.#payload(await store.get<AdapterPayload>(modelKey(this.#model, id)));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#firstOfModel(uidTag(uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#firstOfModel(userCodeTag(userCode));
    }

    async consume(id: string): Promise<void> {
      if (!(await store.consume(modelKey(this.#model, id)))) {
        throw new errors.InvalidGrant(`${this.#model} was already used`);
      }
    }

    async destroy(id: string): Promise<void> {
      await store.delete(modelKey(this.#model, id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.deleteByTag(grantTag(grantId));
    }

    async #firstOfModel(tag: string): Promise<AdapterPayload | undefined> {
      const prefix = modelKey(this.#model, '');
      const record = (await store.findByTag<AdapterPayload>(tag)).find(({ key }) => key.startsWith(prefix));
      return this.#payload(record);
    }

    #payload(record: { value: AdapterPayload; consumedAt?: number } | undefined): AdapterPayload | undefined {
      if (!record) return undefined;
      return record.consumedAt ? { ...record.value, consumed: record.consumedAt } : record.value;
    }
  };
}
