import type { ServerResponse } from 'node:http';

/** Writes a JSON answer that no cache keeps. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'cache-control': headers['cache-control'] ?? 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** Adds a value to a comma-separated header (e.g. Access-Control-Expose-Headers) unless it is there. */
export function appendListHeader(response: ServerResponse, header: string, value: string): void {
  const current = response.getHeader(header);
  const text = Array.isArray(current) ? current.join(',') : current === undefined ? '' : String(current);
  const values = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (!values.some((item) => item.toLowerCase() === value.toLowerCase())) values.push(value);
  response.setHeader(header, values.join(', '));
}

/** Answers a refused request; browsers' scripts may read its challenge. */
export function sendRefusal(response: ServerResponse, refusal: { status: number; headers: Record<string, string>; body: unknown }): void {
  if ('www-authenticate' in refusal.headers) appendListHeader(response, 'Access-Control-Expose-Headers', 'WWW-Authenticate');
  sendJson(response, refusal.status, refusal.body, refusal.headers);
}
