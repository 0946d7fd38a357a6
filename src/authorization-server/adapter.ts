import { createHash } from 'node:crypto';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Logger } from '../log/index.ts';
import type { Store, StoredRecord } from '../storage/index.ts';
import { hashClientSecret, isHashedClientSecret } from './clients/secrets.ts';
import { takeReadAhead } from './refresh-read-ahead.ts';
import { deferConsume, deferredConsume } from './refresh-rotation.ts';
import { forProvider } from './store-unavailable.ts';

/** Store key of an oidc-provider model instance; the CLI writes clients under the same key. */
export const modelKey = (model: string, id: string) => `oidc:${model}:${id}`;

/**
 * Models whose id is the credential itself (the code, the refresh token, ...). They are stored
 * under a SHA-256 of the id and without the `jti` that would repeat it, so a copy of the store
 * alone holds no usable credential. The ids are 256-bit random values: a plain hash is enough.
 */
const CREDENTIAL_MODELS = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'ClientCredentials', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'RegistrationAccessToken', 'InitialAccessToken', 'PushedAuthorizationRequest',
]);

const sha256 = (value: string) => `sha256.${createHash('sha256').update(value).digest('base64url')}`;

/** Where a model instance is stored: credentials by hash, everything else by id. */
export function storedModelKey(model: string, id: string): string {
  return modelKey(model, CREDENTIAL_MODELS.has(model) ? sha256(id) : id);
}

export const grantTag = (grantId: string) => `oidc:grant:${grantId}`;
/** Sessions and grants of one account, for the account page and for ending them all. */
export const accountTag = (accountId: string) => `oidc:account:${accountId}`;
/** Grants given to one client, for its grant count and for revoking them all. */
export const clientGrantsTag = (clientId: string) => `oidc:client-grants:${clientId}`;
const ACCOUNT_MODELS = new Set(['Session', 'Grant']);
const uidTag = (uid: string) => `oidc:uid:${uid}`;

/**
 * oidc-provider's adapter on the Store seam: one class per model name, as oidc-provider expects.
 * `consume` is the Store's atomic consume, so of two concurrent exchanges of one code only the
 * first sees an unconsumed code. Store outages reach oidc-provider as `temporarily_unavailable`.
 * `refreshTokenFound` may start the reads a refresh will need (refresh-read-ahead.ts).
 */
export function storeAdapter(store: Store, log: Logger, refreshTokenFound: (token: AdapterPayload) => void = () => {}): new (model: string) => Adapter {
  return class StoreAdapter implements Adapter {
    readonly #model: string;
    readonly #credential: boolean;
    constructor(model: string) {
      this.#model = model;
      this.#credential = CREDENTIAL_MODELS.has(model);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const tags = [
        payload.grantId && grantTag(payload.grantId),
        payload.uid && uidTag(payload.uid),
        // Dynamically registered clients join the CLI's ones, so `portcullis clients list` shows them.
        this.#model === 'Client' && 'clients',
        ACCOUNT_MODELS.has(this.#model) && typeof payload.accountId === 'string' && accountTag(payload.accountId),
        this.#model === 'Grant' && typeof payload.clientId === 'string' && clientGrantsTag(payload.clientId),
      ].filter((tag): tag is string => Boolean(tag));
      const stored = this.#atRest(payload);
      const key = storedModelKey(this.#model, id);
      const options = { ttlSeconds: expiresIn || undefined, tags };
      const rotation = this.#model === 'RefreshToken' ? deferredConsume() : undefined;
      if (!rotation) return forProvider(log, () => store.put(key, stored, options));
      const written = await forProvider(log, () => store.consumeAndPut(rotation.consumedKey, key, stored, options));
      rotation.done(written);
      if (!written) throw new errors.InvalidGrant('RefreshToken was already used');
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const key = storedModelKey(this.#model, id);
      const record = await forProvider(log, () => takeReadAhead<StoredRecord<AdapterPayload>>(key) ?? store.get<AdapterPayload>(key));
      if (record && this.#model === 'RefreshToken') refreshTokenFound(record.value);
      return this.#payload(record, id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#firstOfModel(uidTag(uid));
    }

    async findByUserCode(): Promise<AdapterPayload | undefined> {
      // Only the device flow asks, and Portcullis leaves it off: a device code is stored by hash, so
      // the record found here could not give oidc-provider its id back.
      throw new Error('the device flow is not supported: device codes are stored by hash');
    }

    async consume(id: string): Promise<void> {
      const key = storedModelKey(this.#model, id);
      // A rotated refresh token is consumed by the write of the one replacing it (refresh-rotation.ts).
      if (this.#model === 'RefreshToken' && deferConsume(key)) return;
      if (!(await forProvider(log, () => store.consume(key)))) {
        throw new errors.InvalidGrant(`${this.#model} was already used`);
      }
    }

    async destroy(id: string): Promise<void> {
      await forProvider(log, () => store.delete(storedModelKey(this.#model, id)));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await forProvider(log, () => store.deleteByTag(grantTag(grantId)));
    }

    /** What the store keeps: no credential id, and a dynamic client's secret only as a hash. */
    #atRest(payload: AdapterPayload): AdapterPayload {
      if (this.#credential) {
        const { jti: _jti, ...rest } = payload;
        return rest;
      }
      const secret = payload.client_secret;
      if (this.#model === 'Client' && typeof secret === 'string' && !isHashedClientSecret(secret)) {
        return { ...payload, client_secret: hashClientSecret(secret) };
      }
      return payload;
    }

    async #firstOfModel(tag: string): Promise<AdapterPayload | undefined> {
      const prefix = modelKey(this.#model, '');
      const records = await forProvider(log, () => store.findByTag<AdapterPayload>(tag));
      return this.#payload(records.find(({ key }) => key.startsWith(prefix)));
    }

    #payload(record: { value: AdapterPayload; consumedAt?: number } | undefined, id?: string): AdapterPayload | undefined {
      if (!record) return undefined;
      const payload = this.#credential && id !== undefined ? { ...record.value, jti: id } : record.value;
      return record.consumedAt ? { ...payload, consumed: record.consumedAt } : payload;
    }
  };
}
