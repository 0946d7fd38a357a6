export type FetchLike = typeof fetch;

export type FetchJsonResult =
  | { ok: true; status: number; body: unknown }
  | { ok: false; status?: number; reason: string; cause?: unknown };

/**
 * GETs a JSON document. Never throws: network errors, time-outs, redirects (not followed),
 * non-200 answers and unparsable bodies come back as `{ ok: false, reason }`.
 */
export async function fetchJson(fetchImpl: FetchLike, url: string, timeoutMs: number): Promise<FetchJsonResult> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    return { ok: false, reason: `GET ${url} failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause };
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    return { ok: false, status: response.status, reason: `GET ${url} answered ${response.status}` };
  }
  try {
    return { ok: true, status: 200, body: JSON.parse(await response.text()) as unknown };
  } catch (cause) {
    return { ok: false, status: 200, reason: `GET ${url} did not return JSON`, cause };
  }
}
