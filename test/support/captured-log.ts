import { createLogger, type Logger } from '../../src/log/index.ts';

export interface CapturedLog {
  log: Logger;
  /** Every line written so far, parsed. */
  lines: Array<Record<string, unknown>>;
}

/** A real pino logger whose JSON lines the test can read (written synchronously). */
export function captureLog(level = 'debug'): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level, destination: { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } } });
  return { log, lines };
}
