import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * What every child process of the tests gets: PATH, and Node's on-disk compile cache, so the
 * project's modules are compiled once per test run instead of once per spawned process (about a
 * third of a start-up). Test processes only: the one `npm test` gives the test files, else a
 * directory private to this user.
 */
export const CHILD_ENV: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_COMPILE_CACHE: compileCacheDir() };

/**
 * A test's project process: NODE_ENV=test unless the test says otherwise, and then (unless the
 * test sets it) the small password-hash cost, since tests sign in hundreds of times.
 */
export function testProcessEnv(env: Record<string, string | undefined> = {}): Record<string, string> {
  const merged = { ...CHILD_ENV, NODE_ENV: 'test', ...env } as Record<string, string>;
  if (merged.NODE_ENV === 'test') merged.PASSWORD_HASH_COST ??= 'test';
  return merged;
}

function compileCacheDir(): string {
  if (process.env.NODE_COMPILE_CACHE) return resolve(process.env.NODE_COMPILE_CACHE);
  const dir = join(tmpdir(), `portcullis-test-compile-cache-${userInfo().uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a project entry point (src/main.ts, src/cli/main.ts) with this Node.js, to completion. */
export function runProject(
  script: string, args: string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
      cwd: PROJECT_ROOT,
      env: testProcessEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Node options that start the demo notes MCP server beside Portcullis, as `npm start` does. */
export const WITH_DEMO_MCP = ['--import', './examples/notes-mcp/companion.ts'];

export interface RunningProject {
  pid: number;
  /** Everything the process wrote so far. */
  output(): string;
  /** False once the process has exited, for whatever reason. */
  running(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts src/main.ts (or another entry point) as its own process and resolves once it says it is
 * running; `node` and `cwd` run another program, e.g. a script in a temporary project under /usr/bin/node.
 */
export function startProject(
  env: Record<string, string>, readyLine = 'Portcullis is running.', script = 'src/main.ts', options: { node?: string; cwd?: string; nodeArgs?: string[] } = {},
): Promise<RunningProject> {
  const child = spawn(options.node ?? process.execPath, [...(options.nodeArgs ?? []), script], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: testProcessEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk;
      if (output.includes(readyLine)) resolve({ pid: child.pid!, output: () => output, running: () => child.exitCode === null && child.signalCode === null, stop });
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code} before it was running:\n${output}`)));
  });
}

/**
 * The environment every instance of one deployment on Redis shares: issuer, store, signing key and
 * cookie keys. Each instance adds its own PORT, DATA_DIR and KEYS_DIR.
 */
export function sharedDeploymentEnv(options: { issuer: string; redisUrl: string; prefix: string; configFile: string; root: string }): Record<string, string> {
  return {
    ISSUER: options.issuer,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.prefix,
    RSA_PRIVATE_KEY_PEM: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    COOKIE_KEYS: randomBytes(32).toString('base64url'),
    CONFIG_FILE: options.configFile,
    DEMO_MCP: 'off',
    RSA_PRIVATE_KEY_PATH: join(options.root, 'absent'),
  };
}
