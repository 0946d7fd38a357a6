import assert from 'node:assert/strict';
import { TokenVerificationError, type TokenErrorCode } from '../../../src/resource-server/index.ts';

/** Awaits a rejection with this TokenVerificationError code; the message must not leak the token. */
export async function rejectsWith(promise: Promise<unknown>, code: TokenErrorCode, token?: string): Promise<TokenVerificationError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TokenVerificationError, `expected a TokenVerificationError, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (token) {
      for (const part of token.split('.').filter((segment) => segment.length > 8)) {
        assert.ok(!error.message.includes(part), 'the error message contains part of the token');
      }
    }
    return error;
  }
  assert.fail(`expected a rejection with ${code}`);
}
