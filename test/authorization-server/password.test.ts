import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { hashPassword, usePasswordHashCost, verifyPassword } from '../../src/authorization-server/accounts/password.ts';

const costOf = (hash: string) => Number(/N=(\d+)/.exec(hash)?.[1]);

describe('password hashes', () => {
  after(() => usePasswordHashCost('standard'));

  it('use scrypt at the OWASP cost (N=2^17, r=8, p=1) unless the test cost is chosen', async () => {
    usePasswordHashCost('standard');
    const hash = await hashPassword('correct horse battery');
    assert.match(hash, /^\$scrypt\$N=131072,r=8,p=1\$/);
    assert.equal(await verifyPassword('correct horse battery', hash), true);
  });

  it('made at the test cost still verify after switching back, since each hash names its own cost', async () => {
    usePasswordHashCost('test');
    const small = await hashPassword('correct horse battery');
    assert.ok(costOf(small) < 2 ** 17);
    usePasswordHashCost('standard');
    assert.equal(await verifyPassword('correct horse battery', small), true);
    assert.equal(await verifyPassword('wrong horse battery', small), false);
  });
});
