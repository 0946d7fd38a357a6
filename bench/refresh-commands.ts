/**
 * What one refresh-token grant asks of Redis, against one client_credentials grant: Portcullis on
 * a redis-server of its own, watched with MONITOR (the commands sent; a script counts once) and
 * INFO (every command Redis ran, its scripts' calls included). `--list` prints the commands of
 * one grant of each kind; `--lua` adds the calls the scripts make.
 * Run alone: ./node_modules/.bin/node bench/refresh-commands.ts [--list] [--lua]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startOwnRedis } from '../test/support/redis-server.ts';
import { CLIENT, refreshTokens, RESOURCE, SERVICE, startRefreshServer } from './refresh-grant.ts';

const SAMPLES = 20;
const list = process.argv.includes('--list');
const withScripts = process.argv.includes('--lua');
const SCRIPT_CALL = '  (script)';
const OURS = new Set(['info', 'monitor', 'echo']);

const root = await mkdtemp(join(tmpdir(), 'portcullis-refresh-commands-'));
const redis = await startOwnRedis();
try {
  const child = await startRefreshServer('redis', root, 'portcullis:', [], redis.url);
  try {
    const tokenUrl = `${child.url.replace('localhost', '127.0.0.1')}/token`;
    let [refreshToken] = await refreshTokens(child.url, 1);
    const refresh = async () => {
      refreshToken = (await post(tokenUrl, {}, { grant_type: 'refresh_token', refresh_token: refreshToken!, client_id: CLIENT.client_id, resource: RESOURCE })).refresh_token;
    };
    const authorization = `Basic ${Buffer.from(`${SERVICE.client_id}:${SERVICE.client_secret}`).toString('base64')}`;
    const clientCredentials = () => post(tokenUrl, { authorization }, { grant_type: 'client_credentials', scope: 'api:read', resource: RESOURCE });
    await refresh();
    await clientCredentials(); // the first of each kind loads what later ones find ready
    for (const [name, grant] of [['refresh_token', refresh], ['client_credentials', clientCredentials]] as const) {
      const sampled = async () => { for (let i = 0; i < SAMPLES; i++) await grant(); };
      let sent: string[] = [];
      const ran = await ranByRedis(redis.url, async () => { sent = await monitored(redis.url, sampled); });
      console.log(`${name.padEnd(18)} per grant: ${sent.filter((line) => !line.startsWith(SCRIPT_CALL)).length / SAMPLES} commands sent; ${ran / SAMPLES} run by Redis with its scripts' calls`);
      if (list) for (const line of await monitored(redis.url, grant)) console.log(`    ${line}`);
    }
  } finally {
    await child.stop();
  }
} finally {
  await redis.stop();
  await rm(root, { recursive: true, force: true });
}

async function post(url: string, headers: Record<string, string>, form: Record<string, string>): Promise<{ refresh_token?: string }> {
  const response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  const body = await response.json() as { refresh_token?: string; error?: string };
  if (!response.ok) throw new Error(`${form.grant_type} failed: ${response.status} ${body.error ?? ''}`);
  return body;
}

/** How many commands Redis ran while `run` ran, less this script's own (INFO, and MONITOR's). */
async function ranByRedis(url: string, run: () => Promise<unknown>): Promise<number> {
  const inspector = new Redis(url);
  try {
    const count = async () => Number(/^total_commands_processed:(\d+)/m.exec(await inspector.info('stats'))![1]);
    const before = await count();
    await run();
    return await count() - before - 3; // the INFOs of `count` and of a new connection, and MONITOR
  } finally {
    inspector.disconnect();
  }
}

/** The commands Redis received while `run` ran, as MONITOR shows them (long arguments cut). */
async function monitored(url: string, run: () => Promise<unknown>): Promise<string[]> {
  const inspector = new Redis(url);
  const monitor = await inspector.monitor();
  const seen: string[] = [];
  const MARK = 'end-of-run';
  const marked = new Promise<void>((resolve) => {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[1] === MARK) return resolve();
      if (OURS.has(args[0]!.toLowerCase())) return; // this script's own connections
      if (source.startsWith('lua') && !withScripts) return;
      seen.push(`${source.startsWith('lua') ? SCRIPT_CALL : ''} ${args.map((arg) => arg.length > 40 ? `${arg.slice(0, 37)}...` : arg).join(' ')}`);
    });
  });
  await run();
  await sleep(200); // the client's count may be sent after its answer
  await inspector.echo(MARK); // MONITOR shows it after every command sent so far
  await marked;
  monitor.disconnect();
  inspector.disconnect();
  return seen;
}
