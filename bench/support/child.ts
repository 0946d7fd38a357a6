import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningChild {
  /** What the child printed after `listening ` on its stdout. */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Runs a server script in its own process (so the load generator and the server do not share an
 * event loop) and waits until it prints `listening <url>`, or until `ready` matches a line.
 */
export async function startChild(script: string, env: Record<string, string>, ready: (line: string) => string | undefined = readyLine, nodeOptions: string[] = []): Promise<RunningChild> {
  const child: ChildProcess = spawn(process.execPath, [...nodeOptions, script], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const found = ready(line);
      if (found) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready: ${stderr.trim().slice(-500)}`)));
  });
  child.stdout!.resume();
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function readyLine(line: string): string | undefined {
  return line.startsWith('listening ') ? line.slice('listening '.length).trim() : undefined;
}
