import { createHash } from 'node:crypto';
import { errors } from 'oidc-provider';
import type { Store } from '../../storage/index.ts';
import { takeReadAhead } from '../refresh-read-ahead.ts';

/** How long a resource server's word that a grant needs a step-up holds. */
export const STEP_UP_SIGNAL_SECONDS = 120;
/** Access-token claim naming the grant (as a hash) for resources with elevated scopes. */
export const GRANT_REF_CLAIM = 'grant_ref';
export const STEP_UP_REQUIRED = 'step-up required: the user must approve elevated access in a new authorization request';

const key = (ref: string) => `step-up:${ref}`;
/** Where a step-up signal for this grant is stored. */
export const stepUpSignalKey = (grantId: string) => key(grantRef(grantId));

/** A stable reference to a grant that reveals nothing of its id. */
export function grantRef(grantId: string): string {
  return createHash('sha256').update(`portcullis grant ${grantId}`).digest('base64url');
}

/**
 * MCP SDK 1.x answers `403 insufficient_scope` by refreshing first; a refresh never carries an
 * elevated scope, so it would retry with the same token and give up. When a resource server
 * refuses a call for an elevated scope it says so here; the next refresh of that grant then
 * answers `invalid_grant` (once, within STEP_UP_SIGNAL_SECONDS), and the SDK starts a new
 * authorization request instead. The refused refresh consumes nothing: the refresh token and the
 * grant stay as they were. A new authorization of the grant (SDK 2.x goes there directly)
 * answers the signal, so its refresh token is never refused.
 */
export class StepUpSignals {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async record(ref: string): Promise<void> {
    await this.#store.put(key(ref), { signalledAt: Math.floor(Date.now() / 1000) }, { ttlSeconds: STEP_UP_SIGNAL_SECONDS });
  }

  /** A code was exchanged for this grant: the user has been asked again. */
  async answered(grantId: string | undefined): Promise<void> {
    if (grantId) await this.#store.delete(stepUpSignalKey(grantId));
  }

  /** For rotateRefreshToken, before the refresh token is consumed: throws `invalid_grant` when a step-up is due. */
  async refuseRefreshAwaitingStepUp(refreshToken: { grantId?: string } | undefined): Promise<void> {
    if (!refreshToken?.grantId) return;
    const signal = stepUpSignalKey(refreshToken.grantId);
    // Signals are rare: a read (started with the refresh token's, see refresh-read-ahead.ts) comes first.
    if (!(await (takeReadAhead(signal) ?? this.#store.get(signal)))) return;
    if (!(await this.#store.consume(signal))) return;
    throw Object.assign(new errors.InvalidGrant('a resource server asked for a step-up to an elevated scope'), { error_description: STEP_UP_REQUIRED });
  }
}
