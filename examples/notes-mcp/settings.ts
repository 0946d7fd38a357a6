import { z } from 'zod';
import { ConfigError } from '../../src/config/index.ts';
import type { IdempotencyOptions } from '../../src/resource-server/entries/idempotency.ts';

/**
 * The demo's own settings, read from the environment. Portcullis's settings (ISSUER, DATA_DIR,
 * REDIS_URL, AUDIT_*, DEMO_MCP_*) come from its configuration; these belong to this server only.
 */
const ENV = {
  ttlSeconds: 'IDEMPOTENCY_TTL_SECONDS',
  required: 'IDEMPOTENCY_REQUIRED',
  deriveKeys: 'IDEMPOTENCY_DERIVE_KEYS',
  whileRunning: 'IDEMPOTENCY_WHILE_RUNNING',
} as const;

const trueFalse = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true');
const schema = z.object({
  ttlSeconds: z.coerce.number({ error: 'must be a whole number of seconds' }).int().min(1, 'must be a whole number of seconds').default(24 * 3600),
  required: trueFalse.default(false),
  deriveKeys: trueFalse.default(false),
  whileRunning: z.enum(['wait', 'reject'], { error: 'must be "wait"|"reject"' }).default('wait'),
});

export type NotesIdempotencySettings = Omit<IdempotencyOptions, 'store'>;

/** The idempotency settings of create_note and delete_all_notes; a bad value throws ConfigError naming it. */
export function notesIdempotencySettings(env: Record<string, string | undefined> = process.env): NotesIdempotencySettings {
  const input = Object.fromEntries(Object.entries(ENV).map(([field, name]) => [field, env[name] === '' ? undefined : env[name]]));
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path[0] as keyof typeof ENV;
  throw new ConfigError(ENV[field], `${issue.message} (got ${JSON.stringify(input[field])})`);
}
