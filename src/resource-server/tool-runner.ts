import type { ToolPolicy } from './policy.ts';

/** A tool refused to start or did not finish in time; answered as an MCP tool error. */
export class ToolRunError extends Error {
  override readonly name = 'ToolRunError';
  /** `busy`: the tool never started; `timeout`: it started and may or may not have finished its work. */
  readonly reason: 'busy' | 'timeout';
  constructor(message: string, reason: 'busy' | 'timeout') {
    super(message);
    this.reason = reason;
  }
}

/**
 * Runs tool calls within their policy's limits: at most `maxConcurrency` at once per tool in
 * this process (more are refused at once, not queued) and at most `timeoutMs` each; the
 * handler's AbortSignal fires at the time-out so it can stop its work.
 */
export class ToolRunner {
  readonly #running = new Map<string, number>();

  async run<T>(tool: string, policy: ToolPolicy, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const running = this.#running.get(tool) ?? 0;
    if (running >= policy.maxConcurrency) throw new ToolRunError(`${tool} is busy (${policy.maxConcurrency} calls running); retry shortly`, 'busy');
    this.#running.set(tool, running + 1);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new ToolRunError(`${tool} did not finish within ${policy.timeoutMs} ms`, 'timeout'));
      }, policy.timeoutMs);
    });
    try {
      return await Promise.race([work(controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
      this.#running.set(tool, (this.#running.get(tool) ?? 1) - 1);
    }
  }
}
