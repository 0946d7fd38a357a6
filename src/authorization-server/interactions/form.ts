import type { Context } from 'koa';
import { BodyError, readBody } from '../../http/body.ts';

const LIMIT_BYTES = 8 * 1024;

/** A form the interaction routes refuse; shown to the user as an error page with its status. */
export { BodyError as FormError };

/** Reads an application/x-www-form-urlencoded body of at most 8 KiB. */
export async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new BodyError(415, 'expected a form submission');
  const body = await readBody(ctx.req, LIMIT_BYTES);
  return new URLSearchParams(body.toString('utf8'));
}
