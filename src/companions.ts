import type { Config } from './config/index.ts';
import type { Logger } from './log/index.ts';

/** What a companion gets to start with: Portcullis's settings, its logger and its metrics hooks. */
export interface CompanionContext {
  config: Config;
  log: Logger;
  /** Bind listeners now, but write nothing to an audit log until `startAudit`. */
  holdAudit: boolean;
  /** Counts a signing-key lookup of a token verifier in Portcullis's metrics. */
  onKeyLookup(result: 'hit' | 'miss'): void;
}

export interface RunningCompanion {
  /** One line for the start-up banner. */
  banner: string;
  /** Its first audit write, called once every listener is bound (start-up can no longer fail). */
  startAudit?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A server that runs beside the authorization server in the same process, such as the demo
 * notes MCP server under `npm start`. It registers itself from a module preloaded with
 * `node --import`, so Portcullis never imports it.
 */
export interface Companion {
  name: string;
  /** Starts it, or resolves undefined when its settings leave it off. */
  start(context: CompanionContext): Promise<RunningCompanion | undefined>;
}

const companions: Companion[] = [];

/**
 * Adds a companion for src/main.ts to start after the authorization server.
 *
 * @example
 * // my-companion.ts, run with: node --import ./my-companion.ts src/main.ts
 * registerCompanion({ name: 'mine', start: async ({ config }) => ({ banner: 'mine: up', close: async () => {} }) });
 */
export function registerCompanion(companion: Companion): void {
  companions.push(companion);
}

/** The companions registered so far, in order. */
export function registeredCompanions(): readonly Companion[] {
  return companions;
}
