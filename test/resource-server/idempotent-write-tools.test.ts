import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { REPLAYED_HEADER, REPLAYED_META, type IdempotencyOptions } from '../../src/resource-server/entries/idempotency.ts';
import { PUBLIC_CLIENT } from '../support/authorization-server.ts';
import { captureLog } from '../support/captured-log.ts';
import { connectMcpClient, startNotesStack, type NotesStack } from '../support/notes-server.ts';
import { addUser, codeFlow, discover } from '../support/oauth-client.ts';

type User = Awaited<ReturnType<typeof addUser>>;

/** A notes stack with its own idempotency settings, and helpers to sign in and call it. */
async function notesWith(idempotency: Omit<IdempotencyOptions, 'store'>) {
  const captured = captureLog('info');
  const stack: NotesStack = await startNotesStack({}, { idempotency, log: captured.log });
  const clients: Client[] = [];
  return {
    stack,
    logLines: captured.lines,
    async signIn(prefix: string): Promise<{ user: User; token: string; mcp: Client }> {
      const user = await addUser(stack.authorizationServer, prefix);
      const config = await discover(stack.authorizationServer, PUBLIC_CLIENT.client_id);
      const { tokens } = await codeFlow(config, stack.authorizationServer, user, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read notes:write', resource: stack.resource });
      const mcp = await connectMcpClient(stack.resource, tokens.access_token);
      clients.push(mcp);
      return { user, token: tokens.access_token, mcp };
    },
    /** A raw JSON-RPC tools/call, for what headers can say that the SDK client cannot. */
    async post(token: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
      const response = await fetch(stack.resource, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18',
          authorization: `Bearer ${token}`, ...headers,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params }),
      });
      return { response, message: await response.json() as { result?: Record<string, unknown>; error?: { code: number; message: string; data?: { reason: string; status: number } } } };
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()));
      await stack.close();
    },
  };
}

const createNote = (text: string, key?: string) => ({ name: 'create_note', arguments: { text }, ...(key === undefined ? {} : { _meta: { 'idempotency-key': key } }) });
const withoutReplayMark = (result: Record<string, unknown>) => {
  const { _meta, ...rest } = result;
  const { [REPLAYED_META]: _replayed, ...otherMeta } = (_meta ?? {}) as Record<string, unknown>;
  return Object.keys(otherMeta).length ? { ...rest, _meta: otherMeta } : rest;
};
async function noteTexts(mcp: Client): Promise<string[]> {
  const listed = await mcp.callTool({ name: 'list_notes', arguments: {} });
  return ((listed.structuredContent as { notes: Array<{ text: string }> }).notes).map((note) => note.text);
}
async function refusal(call: Promise<unknown>): Promise<{ code: number; reason: string; status: number; message: string }> {
  const error = await call.then(() => assert.fail('the call was not refused'), (caught: unknown) => caught);
  assert.ok(error instanceof McpError, `expected a JSON-RPC error, got ${String(error)}`);
  const data = error.data as { reason: string; status: number };
  return { code: error.code, reason: data.reason, status: data.status, message: error.message };
}

describe('write tools run exactly once per idempotency key', () => {
  let notes: Awaited<ReturnType<typeof notesWith>>;
  let alice: Awaited<ReturnType<typeof notes.signIn>>;

  before(async () => {
    notes = await notesWith({});
    alice = await notes.signIn('alice');
  });
  after(() => notes.close());

  it('creates one note for 100 concurrent identical calls with one key, and gives all 100 the same result', async () => {
    const results = await Promise.all(Array.from({ length: 100 }, () => alice.mcp.callTool(createNote('pay the invoice once', 'invoice-4711'))));
    assert.deepEqual((await noteTexts(alice.mcp)).filter((text) => text === 'pay the invoice once'), ['pay the invoice once']);
    const first = withoutReplayMark(results[0] as Record<string, unknown>);
    assert.notEqual(first.isError, true);
    for (const result of results) assert.deepEqual(withoutReplayMark(result as Record<string, unknown>), first);
    const replays = results.filter((result) => (result._meta as Record<string, unknown> | undefined)?.[REPLAYED_META] === true);
    assert.equal(replays.length, 99, 'every call but the one that ran is marked as a replay');
    assert.equal(notes.logLines.filter((line) => line.event === 'idempotent_replay').length, 99, 'each replay is logged');
  });

  it('takes the key from the Idempotency-Key header too, as a Structured Field string or bare', async () => {
    const first = await notes.post(alice.token, createNote('header key'), { 'idempotency-key': '"order-1"' });
    assert.equal(first.response.headers.get(REPLAYED_HEADER), null);
    const again = await notes.post(alice.token, createNote('header key'), { 'idempotency-key': 'order-1' });
    assert.equal(again.response.headers.get(REPLAYED_HEADER), 'true');
    assert.deepEqual(withoutReplayMark(again.message.result!), first.message.result);
    const viaMeta = await alice.mcp.callTool(createNote('header key', 'order-1'));
    assert.equal((viaMeta._meta as Record<string, unknown>)[REPLAYED_META], true, 'header and _meta name the same key');
    assert.equal((await noteTexts(alice.mcp)).filter((text) => text === 'header key').length, 1);
  });

  it('refuses the same key with different arguments, with the draft\'s 422 meaning', async () => {
    await alice.mcp.callTool(createNote('first text', 'reused-key'));
    const refused = await refusal(alice.mcp.callTool(createNote('other text', 'reused-key')));
    assert.deepEqual([refused.code, refused.reason, refused.status], [-32602, 'key_reused', 422]);
    assert.match(refused.message, /different arguments/);
    assert.ok(!(await noteTexts(alice.mcp)).includes('other text'));
  });

  it('scopes keys to the caller: two users with the same key each get their own note', async () => {
    const bob = await notes.signIn('bob');
    await alice.mcp.callTool(createNote('same key, two users', 'shared-key'));
    const bobs = await bob.mcp.callTool(createNote('same key, two users', 'shared-key'));
    assert.equal((bobs._meta as Record<string, unknown> | undefined)?.[REPLAYED_META], undefined, 'bob never sees alice\'s result');
    assert.deepEqual(await noteTexts(bob.mcp), ['same key, two users']);
    assert.equal((await noteTexts(alice.mcp)).filter((text) => text === 'same key, two users').length, 1);
  });

  it('gives the key back when the call was refused before the tool ran, so a corrected retry runs', async () => {
    const invalid = await alice.mcp.callTool(createNote('', 'fix-and-retry')).catch((error: unknown) => error);
    assert.ok(invalid instanceof McpError || (invalid as { isError?: boolean }).isError, 'an empty note is refused');
    const retried = await alice.mcp.callTool(createNote('now with text', 'fix-and-retry'));
    assert.notEqual(retried.isError, true);
    assert.equal((retried._meta as Record<string, unknown> | undefined)?.[REPLAYED_META], undefined);
    assert.ok((await noteTexts(alice.mcp)).includes('now with text'));
  });

  it('leaves read tools alone: a key on list_notes is not recorded', async () => {
    const listed = await alice.mcp.callTool({ name: 'list_notes', arguments: {}, _meta: { 'idempotency-key': 'read-key' } });
    assert.equal((listed._meta as Record<string, unknown> | undefined)?.[REPLAYED_META], undefined);
    const again = await alice.mcp.callTool({ name: 'list_notes', arguments: {}, _meta: { 'idempotency-key': 'read-key' } });
    assert.equal((again._meta as Record<string, unknown> | undefined)?.[REPLAYED_META], undefined);
  });

  describe('refuses invalid keys with the draft\'s 400 meaning', () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, string>, RegExp]> = [
      ['an empty _meta key', createNote('x', ''), {}, /is empty/],
      ['a key longer than 255 characters', createNote('x', 'k'.repeat(256)), {}, /longer than 255/],
      ['a non-ASCII key', createNote('x', 'clé-1'), {}, /printable ASCII/],
      ['a key that is not a string', { name: 'create_note', arguments: { text: 'x' }, _meta: { 'idempotency-key': 42 } }, {}, /must be a string/],
      ['an empty header', createNote('x'), { 'idempotency-key': '""' }, /is empty/],
      ['a malformed Structured Field header', createNote('x'), { 'idempotency-key': '"open' }, /Structured Field/],
      ['a header and _meta that disagree', createNote('x', 'one'), { 'idempotency-key': 'two' }, /different keys/],
    ];
    for (const [name, params, headers, message] of cases) {
      it(name, async () => {
        const { message: answer } = await notes.post(alice.token, params, headers);
        assert.equal(answer.error?.code, -32602);
        assert.deepEqual(answer.error?.data, { reason: 'key_invalid', status: 400 });
        assert.match(answer.error!.message, message);
      });
    }
    it('and runs nothing for them', async () => {
      assert.ok(!(await noteTexts(alice.mcp)).includes('x'));
    });
  });
});

describe('idempotency modes', () => {
  it('required mode refuses write calls without a key and runs those with one', async () => {
    const notes = await notesWith({ required: true });
    try {
      const { mcp } = await notes.signIn('carol');
      const refused = await refusal(mcp.callTool(createNote('no key')));
      assert.deepEqual([refused.code, refused.reason, refused.status], [-32602, 'key_required', 400]);
      await mcp.callTool(createNote('with key', 'k-1'));
      assert.deepEqual(await noteTexts(mcp), ['with key'], 'read tools need no key');
    } finally {
      await notes.close();
    }
  });

  it('derived-key mode runs identical keyless calls once and different ones each', async () => {
    const notes = await notesWith({ deriveKeys: true });
    try {
      const { mcp } = await notes.signIn('dave');
      await mcp.callTool(createNote('same'));
      const second = await mcp.callTool(createNote('same'));
      assert.equal((second._meta as Record<string, unknown>)[REPLAYED_META], true);
      await mcp.callTool(createNote('different'));
      assert.deepEqual((await noteTexts(mcp)).sort(), ['different', 'same']);
    } finally {
      await notes.close();
    }
  });

  it('runs a call again once its key has expired', async () => {
    const notes = await notesWith({ ttlSeconds: 1 });
    try {
      const { mcp } = await notes.signIn('erin');
      await mcp.callTool(createNote('expires', 'short-lived'));
      const replay = await mcp.callTool(createNote('expires', 'short-lived'));
      assert.equal((replay._meta as Record<string, unknown>)[REPLAYED_META], true);
      await sleep(2_100); // the store's TTL has whole-second resolution
      const rerun = await mcp.callTool(createNote('expires', 'short-lived'));
      assert.equal((rerun._meta as Record<string, unknown> | undefined)?.[REPLAYED_META], undefined);
      assert.deepEqual(await noteTexts(mcp), ['expires', 'expires']);
    } finally {
      await notes.close();
    }
  });
});
