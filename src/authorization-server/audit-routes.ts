import type { Middleware } from 'koa';
import { consistencyPath, latestCheckpoint, ProofError } from '../audit/index.ts';
import { problem } from './problem.ts';

export const AUDIT_CHECKPOINT_PATH = '/audit/checkpoint';
export const AUDIT_CONSISTENCY_PATH = '/audit/consistency';

/**
 * What an outside witness follows: the newest signed checkpoint (C2SP signed note, text/plain)
 * and RFC 9162 consistency paths between two tree sizes (`?old=N&new=M`), from the stored subtree hashes.
 */
export function auditRoutes(dir: string): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || (ctx.path !== AUDIT_CHECKPOINT_PATH && ctx.path !== AUDIT_CONSISTENCY_PATH)) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === AUDIT_CHECKPOINT_PATH) {
      const note = await latestCheckpoint(dir);
      if (!note) return problem(ctx, 404, 'No checkpoint yet', 'the audit log has not signed a checkpoint yet');
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = note;
      return;
    }
    const [oldSize, newSize] = [ctx.query.old, ctx.query.new].map((value) => (typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN));
    if (Number.isNaN(oldSize) || Number.isNaN(newSize) || oldSize! > newSize!) return problem(ctx, 400, 'Bad sizes', 'old and new must be tree sizes, old <= new');
    try {
      ctx.body = { old_size: oldSize, new_size: newSize, consistency_path: await consistencyPath(dir, oldSize!, newSize!) };
    } catch (error) {
      if (!(error instanceof ProofError)) throw error;
      problem(ctx, 404, 'No such tree', error.message);
    }
  };
}
