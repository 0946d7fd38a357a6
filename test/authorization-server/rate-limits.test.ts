import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Limit } from '../../src/authorization-server/rate-limits/index.ts';
import { LoginLockout } from '../../src/authorization-server/rate-limits/login-lockout.ts';
import { embeddedStoreForSuite } from '../support/temp-store.ts';

describe('rate limits on the store', () => {
  const suite = embeddedStoreForSuite();

  it('lets a key through up to its points, then says how long until the window resets', async () => {
    const limit = new Limit(suite.store, 'unit', { max: 2, windowSeconds: 30 });
    assert.equal(await limit.hit('a'), undefined);
    assert.equal(await limit.exhaustedFor('a'), undefined);
    assert.equal(await limit.hit('a'), undefined);
    const exhausted = await limit.exhaustedFor('a');
    assert.ok(exhausted !== undefined && exhausted >= 1 && exhausted <= 31, 'the store keeps expiry in whole seconds');
    const retry = await limit.hit('a');
    assert.ok(retry !== undefined && retry >= 1 && retry <= 30);
    assert.equal(await limit.hit('b'), undefined, 'each key counts apart');
  });

  it('doubles each pause of a sign-in lockout and caps it, and a success clears it', async () => {
    const lockout = new LoginLockout(suite.store, { threshold: 2, baseSeconds: 60, maxSeconds: 150 });
    const pauses: Array<number | undefined> = [];
    for (let failure = 0; failure < 8; failure++) pauses.push(await lockout.failed('Mallory', '203.0.113.9'));
    assert.deepEqual(pauses, [undefined, 60, undefined, 120, undefined, 150, undefined, 150]);
    const remaining = await lockout.pausedFor('mallory', '203.0.113.9');
    assert.ok(remaining !== undefined && remaining <= 150, 'usernames are compared without case');
    assert.equal(await lockout.pausedFor('mallory', '203.0.113.10'), undefined, 'another address is not paused');
    await lockout.succeeded('mallory', '203.0.113.9');
    assert.equal(await lockout.pausedFor('mallory', '203.0.113.9'), undefined);
    assert.equal(await lockout.failed('mallory', '203.0.113.9'), undefined, 'the count starts again');
  });
});
