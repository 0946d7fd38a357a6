import type { OutboundFetch } from '../../http/outbound/index.ts';

const REMEMBERED = 200;

/**
 * oidc-provider fills in `application_type: web` before a client ID metadata document reaches
 * allowClient, so whether the document declared a type is read here, from the document as it
 * is fetched (bounded by the outbound fetch's size cap). Only the last few URLs are remembered.
 */
export class DeclaredApplicationTypes {
  readonly #declared = new Map<string, unknown>();

  /** The fetch to give oidc-provider: unchanged responses, with each JSON document's `application_type` noted. */
  recording(fetch: OutboundFetch): OutboundFetch {
    return async (input, init) => {
      const response = await fetch(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (response.status === 200 && url.startsWith('https://')) {
        const declared = await response.clone().json().then((document: unknown) => (document as { application_type?: unknown } | null)?.application_type, () => undefined);
        this.#declared.delete(url);
        this.#declared.set(url, declared);
        if (this.#declared.size > REMEMBERED) this.#declared.delete(this.#declared.keys().next().value!);
      }
      return response;
    };
  }

  /** What the document at this client_id URL declared, if anything. */
  of(clientId: string): unknown {
    return this.#declared.get(clientId);
  }
}
