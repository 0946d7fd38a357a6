import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loopbackRedirectMatches } from '../../src/authorization-server/clients/redirect-uris.ts';

const REGISTERED = ['http://127.0.0.1:8765/cb', 'http://[::1]/cb?app=1', 'http://localhost/cb'];

describe('loopback redirect URIs', () => {
  it('match a registered one on any port', () => {
    for (const presented of ['http://127.0.0.1:49152/cb', 'http://127.0.0.1/cb', 'http://[::1]:3000/cb?app=1', 'http://localhost:1/cb']) {
      assert.equal(loopbackRedirectMatches(presented, REGISTERED), true, presented);
    }
  });

  it('are otherwise compared as strings, without any normalisation', () => {
    for (const presented of [
      'http://127.0.0.1:8765/x/../cb', 'http://127.0.0.1:8765/./cb', 'http://127.0.0.1:8765/cb/', 'http://127.0.0.1:8765/CB', 'http://127.0.0.1:8765/%63b',
      'HTTP://127.0.0.1:8765/cb', 'http://LOCALHOST:1/cb', 'http://user@127.0.0.1:8765/cb', 'http://127.0.0.1:8765/cb#x', 'http://127.0.0.1:8765/cb?',
      'http://127.0.0.1:8765//cb', 'http://127.0.0.1:8765\\cb', 'http://127.0.0.1.:8765/cb', 'http://0x7f.0.0.1:8765/cb', 'http://[::1]:3000/cb?app=2',
      'http://127.0.0.1:99999/cb', 'http://127.0.0.1:/cb', 'https://127.0.0.1:8765/cb', 'http://localhost.evil.example/cb',
    ]) {
      assert.equal(loopbackRedirectMatches(presented, REGISTERED), false, presented);
    }
  });

  it('never relax a registered URI that is not loopback', () => {
    assert.equal(loopbackRedirectMatches('https://app.example:8443/cb', ['https://app.example/cb']), false);
  });
});
