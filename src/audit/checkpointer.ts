import { createPublicKey, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../keys/index.ts';
import type { Hash } from './merkle.ts';
import { checkpointName } from './records.ts';
import { signCheckpoint, verifierKey, type NoteSigner } from './signed-note.ts';

/**
 * Signs and writes checkpoints. During a handover (a new origin or key) the first checkpoint past
 * the handover record is signed by the old identity too, which is how the old vouches for the new.
 */
export class Checkpointer {
  readonly #dir: string;
  readonly #origin: string;
  readonly #onWritten: ((name: string) => void) | undefined;
  #key: KeyObject;
  #coSigners: { signers: NoteSigner[]; after: number } | undefined;

  constructor(options: { dir: string; origin: string; key: KeyObject; onWritten?: ((name: string) => void) | undefined }) {
    this.#dir = options.dir;
    this.#origin = options.origin;
    this.#key = options.key;
    this.#onWritten = options.onWritten;
  }

  get key(): KeyObject {
    return this.#key;
  }

  /** The verifier key of the key that signs new checkpoints. */
  get verifierKey(): string {
    return verifierKey(this.#origin, createPublicKey(this.#key));
  }

  /** From now on sign with `key`; the first checkpoint covering record `after` is co-signed by `coSigners`. */
  handOver(coSigners: NoteSigner[], after: number, key = this.#key): void {
    this.#key = key;
    this.#coSigners = { signers: coSigners, after };
  }

  async write(size: number, root: Hash): Promise<void> {
    const coSigners = this.#coSigners && size > this.#coSigners.after ? this.#coSigners.signers : [];
    const note = signCheckpoint({ origin: this.#origin, size, root }, [{ name: this.#origin, key: this.#key }, ...coSigners]);
    const name = checkpointName(size);
    await writeFileAtomic(join(this.#dir, name), note);
    if (coSigners.length > 0) this.#coSigners = undefined;
    this.#onWritten?.(name);
  }
}
