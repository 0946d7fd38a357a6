/**
 * Soak test (not part of `npm test`): Portcullis with the demo notes MCP server, as `npm start`
 * runs them, under mixed traffic (client_credentials grants, refresh-token rotations, and MCP
 * tool calls with the refreshed access tokens) for `--minutes` (default 10) at half the capacity
 * measured first with the same mix. Prints the errors (goal: 0) and the server's resident memory
 * at the start (after a warm-up of a quarter of the run, at most 1 min) and the end (goal: within 10%).
 * Run: ./node_modules/.bin/node bench/soak.ts [--minutes 10]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TestServer } from '../test/support/authorization-server.ts';
import { codeFlow, discover } from '../test/support/oauth-client.ts';
import { freePort } from '../test/support/ports.ts';
import { runProject } from '../test/support/processes.ts';
import { startChild } from './support/child.ts';
import { NO_RATE_LIMITS } from './support/unlimited.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, chains: { type: 'string', default: '8' } } });
const minutes = Number(values.minutes);
const chains = Number(values.chains);
if (!(minutes > 0) || !(chains > 0)) throw new Error('usage: bench/soak.ts [--minutes N] [--chains N]');

const PASSWORD = 'soak password 0123456789';
const PUBLIC = { client_id: 'soak-public', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };
const SERVICE = { client_id: 'soak-service', client_secret: 'soak-service-secret-0123456789abcdef', redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' };
const KINDS = ['token', 'refresh', 'tool call'] as const;
type Kind = (typeof KINDS)[number];

const root = await mkdtemp(join(tmpdir(), 'portcullis-soak-'));
const demoPort = await freePort();
const resource = `http://localhost:${demoPort}/mcp`;
const configFile = join(root, 'config.json');
await writeFile(configFile, JSON.stringify({ clients: [PUBLIC, SERVICE] }));
const env = {
  NODE_ENV: 'development', PORT: String(await freePort()), HOST: '127.0.0.1', CONFIG_FILE: configFile, DEMO_MCP: 'on', DEMO_MCP_PORT: String(demoPort),
  DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys'), RSA_PRIVATE_KEY_PATH: join(root, 'none'), COOKIE_KEYS_PATH: join(root, 'none'), LOG_LEVEL: 'warn', ...NO_RATE_LIMITS,
};
const added = await runProject('src/cli/main.ts', ['users', 'add', 'soak', '--password-stdin'], { env, input: `${PASSWORD}\n` });
if (added.code !== 0) throw new Error(`could not add the soak user: ${added.stderr}`);
const server = await startChild('src/main.ts', env, (line) => /^\s+issuer:\s+(\S+)/.exec(line)?.[1], ['--import', './examples/notes-mcp/companion.ts']);
const issuer = server.url;
const tokenUrl = `${issuer.replace('localhost', '127.0.0.1')}/token`;
const toolUrl = resource.replace('localhost', '127.0.0.1');

try {
  const sessions: Array<{ refreshToken: string; accessToken: string; busy: boolean }> = [];
  const config = await discover({ issuer } as TestServer, PUBLIC.client_id);
  for (let index = 0; index < chains; index++) {
    const { tokens } = await codeFlow(config, { issuer } as TestServer, { username: 'soak', password: PASSWORD }, {
      redirectUri: PUBLIC.redirect_uris[0]!, scope: 'notes:read offline_access', resource, extra: { prompt: 'consent' },
    });
    if (!tokens.refresh_token) throw new Error('no refresh token was issued');
    sessions.push({ refreshToken: tokens.refresh_token, accessToken: tokens.access_token, busy: false });
  }

  /** Claims a chain no other operation is using: a refresh token works once, so a chain never runs two at a time. */
  const claimSession = async (slot: number) => {
    for (;;) {
      const free = sessions.find((candidate, index) => !candidate.busy && index % chains === slot % chains) ?? sessions.find((candidate) => !candidate.busy);
      if (free) {
        // Claimed before anything awaits, or two operations started in one tick would share it.
        free.busy = true;
        return free;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  const errors = new Map<string, number>();
  const done = { token: 0, refresh: 0, 'tool call': 0 } as Record<Kind, number>;
  const operation = async (kind: Kind, slot: number): Promise<void> => {
    try {
      if (kind === 'token') {
        const response = await fetch(tokenUrl, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${SERVICE.client_id}:${SERVICE.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'notes:read', resource }),
        });
        const body = await response.json() as { access_token?: string };
        if (!response.ok || !body.access_token) throw new Error(`token ${response.status}`);
      } else {
        const session = await claimSession(slot);
        try {
          if (kind === 'refresh') {
            const response = await fetch(tokenUrl, {
              method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.refreshToken, client_id: PUBLIC.client_id, resource }),
            });
            const body = await response.json() as { refresh_token?: string; access_token?: string };
            if (!response.ok || !body.refresh_token || !body.access_token) throw new Error(`refresh ${response.status}`);
            session.refreshToken = body.refresh_token;
            session.accessToken = body.access_token;
          } else {
            const response = await fetch(toolUrl, {
              method: 'POST',
              headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
              body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_notes', arguments: {} } }),
            });
            const body = await response.json() as { result?: { isError?: boolean } };
            if (!response.ok || !body.result || body.result.isError) throw new Error(`tool call ${response.status}`);
          }
        } finally {
          session.busy = false;
        }
      }
      done[kind] += 1;
    } catch (error) {
      const key = `${kind}: ${(error as Error).message}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
  };

  // Capacity: the same mix as fast as `chains` closed loops go, for 10 s.
  let next = 0;
  const capacityEnd = performance.now() + 10_000;
  const before = done.token + done.refresh + done['tool call'];
  await Promise.all(Array.from({ length: chains }, async (_, slot) => {
    while (performance.now() < capacityEnd) await operation(KINDS[next++ % KINDS.length]!, slot);
  }));
  const capacity = (done.token + done.refresh + done['tool call'] - before) / 10;
  const rate = capacity / 2;
  errors.clear();
  for (const kind of KINDS) done[kind] = 0;
  console.log(`capacity with this mix: ${Math.round(capacity)} operations/s; soaking at ${Math.round(rate)}/s for ${minutes} min`);

  // The start figure is taken once the soak rate has run for a while (warm caches, settled heap).
  const warmUpMs = Math.min(60_000, minutes * 60_000 / 4);
  let rssStart = Number.NaN;
  const started = performance.now();
  const end = started + minutes * 60_000;
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let lastReport = started;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) {
      const pending = operation(KINDS[sent % KINDS.length]!, sent).finally(() => inFlight.delete(pending));
      inFlight.add(pending);
      sent += 1;
    }
    if (Number.isNaN(rssStart) && performance.now() - started >= warmUpMs) rssStart = rssMiB(server.pid);
    if (performance.now() - lastReport >= 60_000) {
      lastReport = performance.now();
      console.log(`  ${Math.round((lastReport - started) / 60_000)} min: ${sent} sent, ${[...errors.values()].reduce((a, b) => a + b, 0)} errors, RSS ${rssMiB(server.pid)} MiB`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(inFlight);
  const rssEnd = rssMiB(server.pid);
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  console.log(`done: ${done.token} tokens, ${done.refresh} refreshes, ${done['tool call']} tool calls in ${minutes} min (${Math.round(sent / (minutes * 60))}/s)`);
  console.log(`errors: ${errorCount}${errorCount ? ` (${[...errors].map(([what, count]) => `${count}x ${what}`).join('; ')})` : ''}`);
  console.log(`server RSS: ${rssStart} MiB after ${Math.round(warmUpMs / 1000)} s, ${rssEnd} MiB at the end (${(((rssEnd - rssStart) / rssStart) * 100).toFixed(1)}%)`);
  process.exitCode = errorCount === 0 ? 0 : 1;
} finally {
  await server.stop();
  await rm(root, { recursive: true, force: true });
}

/** Resident set size of a process, in MiB (Linux). */
function rssMiB(pid: number): number {
  const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  return Math.round((kib / 1024) * 10) / 10;
}
