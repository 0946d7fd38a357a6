import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdempotencyRecords, type Admission, type IdempotencyScope } from '../../src/resource-server/idempotency.ts';
import { embeddedStoreForSuite } from '../support/temp-store.ts';

const TIMEOUT_MS = 1_000;
const ok = { content: [{ type: 'text' as const, text: 'done' }] };
let counter = 0;
const scope = (key = `key-${++counter}`): IdempotencyScope => ({ issuer: 'https://as.example', subject: 'alice', clientId: 'app', tool: 'create_note', key });

function claimOf(admission: Admission) {
  assert.equal(admission.kind, 'run');
  return (admission as Extract<Admission, { kind: 'run' }>).claim;
}

describe('idempotency records on the store', () => {
  const suite = embeddedStoreForSuite();

  it('refuses a retry at once while the first call runs, in reject mode', async () => {
    const records = new IdempotencyRecords({ store: suite.store, whileRunning: 'reject' });
    const key = scope();
    claimOf(await records.admit(key, { text: 'a' }, TIMEOUT_MS));
    assert.deepEqual(await records.admit(key, { text: 'a' }, TIMEOUT_MS), { kind: 'refused', reason: 'in_progress' });
  });

  it('lets a retry wait for the running first call and replay its result, in wait mode', async () => {
    const records = new IdempotencyRecords({ store: suite.store });
    const key = scope();
    const claim = claimOf(await records.admit(key, { text: 'a' }, TIMEOUT_MS));
    const retry = records.admit(key, { text: 'a' }, TIMEOUT_MS);
    await records.complete(claim, ok);
    assert.deepEqual(await retry, { kind: 'replay', result: ok });
  });

  it('stops waiting after the tool time-out and says the call is still in progress', async () => {
    let now = 0;
    const records = new IdempotencyRecords({ store: suite.store }, () => now);
    const key = scope();
    claimOf(await records.admit(key, {}, TIMEOUT_MS));
    const retry = records.admit(key, {}, TIMEOUT_MS);
    now = TIMEOUT_MS + 5_000; // the waiter's limit (the time-out plus the lease margin); the lease has not run out
    assert.deepEqual(await retry, { kind: 'refused', reason: 'in_progress' });
  });

  it('answers outcome_unknown, never a second run, when the first call\'s process died mid-call', async () => {
    let now = 0;
    const records = new IdempotencyRecords({ store: suite.store, whileRunning: 'reject' }, () => now);
    const key = scope();
    claimOf(await records.admit(key, { text: 'a' }, TIMEOUT_MS)); // ...and the process is killed here
    now = TIMEOUT_MS + 5_001; // the claim's lease has run out
    assert.deepEqual(await records.admit(key, { text: 'a' }, TIMEOUT_MS), { kind: 'refused', reason: 'outcome_unknown' });
    assert.deepEqual(await records.admit(key, { text: 'a' }, TIMEOUT_MS), { kind: 'refused', reason: 'outcome_unknown' }, 'every later retry gets the same answer');
  });

  it('replays a tool error as the first completed result', async () => {
    const records = new IdempotencyRecords({ store: suite.store });
    const key = scope();
    const failed = { isError: true, content: [{ type: 'text' as const, text: 'the note book is full' }] };
    await records.complete(claimOf(await records.admit(key, {}, TIMEOUT_MS)), failed);
    assert.deepEqual(await records.admit(key, {}, TIMEOUT_MS), { kind: 'replay', result: failed });
  });

  it('lets a retry run after a claim was given back', async () => {
    const records = new IdempotencyRecords({ store: suite.store });
    const key = scope();
    await records.release(claimOf(await records.admit(key, { text: 'a' }, TIMEOUT_MS)));
    claimOf(await records.admit(key, { text: 'b' }, TIMEOUT_MS));
  });

  it('compares arguments canonically: the order of object keys does not matter', async () => {
    const records = new IdempotencyRecords({ store: suite.store });
    const key = scope();
    await records.complete(claimOf(await records.admit(key, { a: 1, b: { c: 2, d: 3 } }, TIMEOUT_MS)), ok);
    assert.equal((await records.admit(key, { b: { d: 3, c: 2 }, a: 1 }, TIMEOUT_MS)).kind, 'replay');
    assert.deepEqual(await records.admit(key, { a: 1, b: { c: 2, d: 4 } }, TIMEOUT_MS), { kind: 'refused', reason: 'key_reused' });
  });

  it('keeps no key material in the store key', async () => {
    const records = new IdempotencyRecords({ store: suite.store });
    const claim = claimOf(await records.admit(scope('secret-looking-key'), {}, TIMEOUT_MS));
    assert.match(claim.recordKey, /^idempotency:[0-9a-f]{64}$/);
  });
});
