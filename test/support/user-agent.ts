import assert from 'node:assert/strict';
import { CookieJar } from './cookie-jar.ts';

/**
 * Plays the user's browser over HTTP: follows the authorization request through our login and
 * consent forms and returns the final redirect to the client (with `code` or `error`).
 */
export class UserAgent {
  readonly jar = new CookieJar();
  /** Every page of ours that `authorize` filled in (sign-in, consent), in order. */
  readonly pages: string[] = [];
  readonly #origin: string;

  constructor(origin: string) {
    this.#origin = origin;
  }

  async get(url: string | URL): Promise<Response> {
    const response = await fetch(new URL(url, this.#origin), { redirect: 'manual', headers: { cookie: this.jar.header() } });
    this.jar.store(response);
    return response;
  }

  async postForm(url: string | URL, fields: Record<string, string>): Promise<Response> {
    const response = await fetch(new URL(url, this.#origin), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    this.jar.store(response);
    return response;
  }

  /** Follows same-origin redirects; stops at the first response that is a page or leaves the server. */
  async follow(response: Response): Promise<{ response: Response; url: URL }> {
    let current = response;
    let url = new URL(current.url || this.#origin);
    while (current.status >= 300 && current.status < 400) {
      url = new URL(current.headers.get('location')!, url);
      if (url.origin !== this.#origin) return { response: current, url };
      current = await this.get(url);
    }
    return { response: current, url };
  }

  /** Runs the whole interaction: login (when asked) then consent, returning the client redirect URL. */
  async authorize(authorizationUrl: URL, credentials: { username: string; password: string }, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
    let { response, url } = await this.follow(await this.get(authorizationUrl));
    for (let step = 0; step < 4 && url.origin === this.#origin; step += 1) {
      assert.equal(response.status, 200, `expected a page at ${url.pathname}, got ${response.status}`);
      const page = await response.text();
      this.pages.push(page);
      const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
      const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
      assert.ok(action && csrf, `no form at ${url.pathname}`);
      const fields: Record<string, string> = action.endsWith('/login')
        ? { csrf, username: credentials.username, password: credentials.password }
        : { csrf, decision };
      ({ response, url } = await this.follow(await this.postForm(action, fields)));
    }
    assert.notEqual(url.origin, this.#origin, 'the flow did not return to the client');
    return url;
  }
}
