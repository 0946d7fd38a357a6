import { createHmac } from 'node:crypto';
import type { Logger } from '../../log/index.ts';

export const SIGNATURE_HEADER = 'X-Portcullis-Signature';

export interface AlertWebhookOptions {
  url: string;
  secret: string;
  log: Logger;
  /** Attempts in all (first try included); default 5. */
  attempts?: number;
  /** Wait before the first retry, doubled after each; default 1000 ms. */
  firstRetryMs?: number;
}

/** `sha256=<hex HMAC-SHA256 of the exact body>`, as the receiver recomputes it. */
export function alertSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Sends alerts to ALERT_WEBHOOK_URL: a JSON POST signed with the secret, retried with
 * exponential backoff on failure. `send` returns at once; nobody waits for the webhook.
 */
export function alertWebhook(options: AlertWebhookOptions): (alert: Record<string, unknown>) => void {
  const attempts = options.attempts ?? 5;
  const firstRetryMs = options.firstRetryMs ?? 1000;
  const deliver = async (body: string, event: unknown) => {
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: alertSignature(options.secret, body) },
          body,
          signal: AbortSignal.timeout(5000),
          redirect: 'manual',
        });
        await response.body?.cancel();
        if (response.ok) return;
        options.log.warn({ event, status: response.status, attempt }, 'alert webhook refused the alert');
      } catch (error) {
        options.log.warn({ event, attempt, err: { name: (error as Error).name, message: (error as Error).message } }, 'alert webhook unreachable');
      }
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, firstRetryMs * 2 ** (attempt - 1)).unref());
    }
    options.log.error({ event }, 'alert webhook gave up after every retry');
  };
  return (alert) => {
    void deliver(JSON.stringify(alert), alert.event);
  };
}
