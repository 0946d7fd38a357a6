import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { SERVICE_CLIENT } from '../support/authorization-server.ts';
import { freePort } from '../support/ports.ts';
import { PROJECT_ROOT, testProcessEnv } from '../support/processes.ts';

const RESOURCE = 'https://api.example.test/';
const tokenBody = new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: RESOURCE }).toString();
const tokenHeaders = {
  authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.client_id}:${SERVICE_CLIENT.client_secret}`).toString('base64')}`,
  'content-type': 'application/x-www-form-urlencoded',
  'content-length': String(Buffer.byteLength(tokenBody)),
};

interface Outcome {
  status?: number;
  connection?: string;
  error?: string;
}

describe('graceful shutdown on SIGTERM', () => {
  let root: string;
  before(async () => { root = await mkdtemp(join(tmpdir(), 'portcullis-shutdown-')); });
  after(() => rm(root, { recursive: true, force: true }));

  it('stops accepting, answers every request already in flight, and exits 0', async () => {
    const configFile = join(root, 'config.json');
    await writeFile(configFile, JSON.stringify({ clients: [SERVICE_CLIENT], resources: [{ uri: RESOURCE, scopes: ['api:read'] }] }));
    const port = await freePort();
    const child = spawn(process.execPath, ['src/main.ts'], {
      cwd: PROJECT_ROOT,
      env: testProcessEnv({
        PORT: String(port), HOST: '127.0.0.1', CONFIG_FILE: configFile, DEMO_MCP: 'off',
        DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys'), RSA_PRIVATE_KEY_PATH: join(root, 'absent'), COOKIE_KEYS_PATH: join(root, 'absent'),
      }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    const lines = createInterface({ input: child.stdout! });
    const logged = (pattern: RegExp) => new Promise<void>((resolve) => {
      const listener = (line: string) => {
        if (pattern.test(line)) {
          lines.off('line', listener);
          resolve();
        }
      };
      lines.on('line', listener);
    });
    await logged(/^Portcullis is running\./);

    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    // Every request goes out on a keep-alive connection.
    const send = (inFlight?: { accepted: () => void; body: Promise<void> }) => new Promise<Outcome>((resolve) => {
      const headers = inFlight ? { ...tokenHeaders, expect: '100-continue' } : tokenHeaders;
      const outgoing = request({ host: '127.0.0.1', port, path: '/token', method: 'POST', headers, agent }, (response: IncomingMessage) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode!, connection: response.headers.connection }));
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        // HTTP/1.1's keep-alive race: the server closed an idle connection as this request was sent
        // on it, so the server never saw it. Clients retry such a request (Node's docs say so too).
        if (outgoing.reusedSocket && error.code === 'ECONNRESET' && !inFlight) resolve(send());
        // A new connection still in the kernel's accept queue when the server stops listening is
        // reset by the OS: the server never accepted it, so it is refused, not dropped.
        else if (!outgoing.reusedSocket && error.code === 'ECONNRESET' && !inFlight) resolve({ error: 'NOT_ACCEPTED' });
        else resolve({ error: error.code ?? error.message });
      });
      if (!inFlight) {
        outgoing.end(tokenBody);
        return;
      }
      // 100 Continue: the server has read the request line and headers, and waits for the body.
      outgoing.on('continue', () => {
        inFlight.accepted();
        void inFlight.body.then(() => outgoing.end(tokenBody));
      });
      outgoing.flushHeaders();
    });

    // A stream of token requests on three keep-alive connections; each keeps sending until its
    // own request is refused, as a busy client would.
    const outcomes: Outcome[] = [];
    let enoughSent: () => void;
    const warmedUp = new Promise<void>((resolve) => { enoughSent = resolve; });
    const stream = Promise.all(Array.from({ length: 3 }, async () => {
      for (let refused = false; !refused;) {
        const outcome = await send();
        outcomes.push(outcome);
        if (outcomes.length >= 10) enoughSent();
        refused = outcome.error !== undefined;
      }
    }));
    await warmedUp;

    // One request surely in flight when the signal comes: the server has its headers, not yet its body.
    let accepted!: () => void;
    let sendBody!: () => void;
    const serverHasIt = new Promise<void>((resolve) => { accepted = resolve; });
    const inFlight = send({ accepted, body: new Promise<void>((resolve) => { sendBody = resolve; }) });
    await serverHasIt;
    const shuttingDown = logged(/"msg":"shutting down"/);
    child.kill('SIGTERM');
    await shuttingDown;
    sendBody();
    const answer = await inFlight;
    const [code] = await exited;
    await stream;
    agent.destroy();

    assert.equal(answer.status, 200, `the request in flight was answered: ${JSON.stringify(answer)}`);
    assert.equal(answer.connection, 'close', 'its keep-alive connection ends with the answer');
    assert.equal(code, 0, 'exit code 0');
    const failed = outcomes.filter((outcome) => outcome.status !== 200 && outcome.error !== 'ECONNREFUSED' && outcome.error !== 'NOT_ACCEPTED');
    assert.deepEqual(failed, [], 'every request was answered, or refused before it was sent');
    assert.ok(outcomes.filter((outcome) => outcome.status === 200).length >= 10);
  });
});
