import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOutboundFetch, describeForbidden, forbiddenAddress, OutboundError, type OutboundOptions, type ResolvedAddress } from '../../../src/http/outbound/index.ts';
import { captureLog, type CapturedLog } from '../../support/captured-log.ts';
import { makeTestCertificates, startHttpsFixture, type HttpsFixture, type TestCertificates } from '../../support/tls.ts';

/** [address, kind, IPv6 form that embeds an IPv4 address] */
const FORBIDDEN: Array<[string, string, string?]> = [
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'this-network'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.254', 'private'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'shared (CGNAT)'],
  ['100.127.255.254', 'shared (CGNAT)'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.169.254', 'link-local'],
  ['169.254.0.1', 'link-local'],
  ['192.0.0.8', 'IETF protocol assignments'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['198.18.0.1', 'benchmarking'],
  ['192.88.99.1', 'reserved'],
  ['224.0.0.251', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['fc00::1', 'unique-local'],
  ['fd12:3456:789a::1', 'unique-local'],
  ['fe80::1', 'link-local'],
  ['febf::1', 'link-local'],
  ['fec0::1', 'site-local'],
  ['ff02::1', 'multicast'],
  ['100::1', 'discard'],
  ['2001::1', 'reserved'],
  ['2001:db8::1', 'documentation'],
  ['64:ff9b:1::1', 'reserved'],
  ['4000::1', 'reserved'],
  ['::ffff:127.0.0.1', 'loopback', 'IPv4-mapped'],
  ['::ffff:7f00:1', 'loopback', 'IPv4-mapped'],
  ['::ffff:a9fe:a9fe', 'link-local', 'IPv4-mapped'],
  ['::ffff:10.0.0.1', 'private', 'IPv4-mapped'],
  ['::ffff:100.64.0.1', 'shared (CGNAT)', 'IPv4-mapped'],
  ['::127.0.0.1', 'loopback', 'IPv4-compatible'],
  ['::a00:1', 'private', 'IPv4-compatible'],
  ['64:ff9b::7f00:1', 'loopback', 'NAT64'],
  ['64:ff9b::169.254.169.254', 'link-local', 'NAT64'],
  ['2002:7f00:1::1', 'loopback', '6to4'],
  ['2002:c0a8:101::1', 'private', '6to4'],
];

const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450::1', '::ffff:8.8.8.8', '64:ff9b::808:808'];

// WHATWG URL parsing turns each of these into 127.0.0.1 (or 169.254.169.254) before any check.
const NUMERIC_HOSTS = [
  'https://2130706433/', 'https://0x7f.1/', 'https://017700000001/', 'https://0x7f000001/', 'https://127.1/',
  'https://0177.0.0.1/', 'https://[::ffff:127.0.0.1]/', 'https://[0:0:0:0:0:ffff:7f00:1]/', 'https://0xa9fea9fe/latest/meta-data/',
];

const INTERNAL_NAMES = [
  'localhost', 'LOCALHOST.', 'api.localhost', 'printer.local', 'db.internal', 'metadata.google.internal', 'git.corp', 'nas.lan',
  'router.home', 'gw.home.arpa', 'wiki.intranet', 'intranet', 'metadata',
];

const literalUrl = (address: string) => `https://${address.includes(':') ? `[${address}]` : address}/client.json`;

describe('SSRF rules of the outbound fetch', () => {
  let captured: CapturedLog;
  let resolved: string[];

  /** A fetch whose resolver answers from `table`; the names it was asked are in `resolved`. */
  function outbound(table: Record<string, string[]> = {}, options: Partial<OutboundOptions> = {}) {
    captured = captureLog();
    resolved = [];
    return createOutboundFetch({
      log: captured.log,
      resolve: async (hostname) => {
        resolved.push(hostname);
        const addresses = table[hostname];
        if (!addresses) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
        return addresses.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
      },
      ...options,
    });
  }

  async function refusal(promise: Promise<Response>): Promise<OutboundError> {
    const error = await promise.then(() => assert.fail('the request was made'), (caught: unknown) => caught);
    assert.ok(error instanceof OutboundError, `an OutboundError, got ${String(error)}`);
    return error;
  }

  function loggedRefusal(): { reason: string; detail: string; url: string } {
    const line = captured.lines.find((entry) => entry.msg === 'outbound request refused' || entry.msg === 'outbound request failed');
    assert.ok(line, 'the refusal was logged');
    assert.equal(line.level, 40, 'at warn level');
    return line.outbound as { reason: string; detail: string; url: string };
  }

  describe('address classes', () => {
    for (const [address, kind, embeddedIn] of FORBIDDEN) {
      const label = `${kind}${embeddedIn ? ` in ${embeddedIn} form` : ''}`;

      it(`refuses ${address} (${label}) as a literal host, without resolving anything`, async () => {
        const fetch = outbound();
        const error = await refusal(fetch(literalUrl(address)));
        assert.equal(error.reason, 'forbidden_address');
        assert.match(error.message, new RegExp(`${kind.replace(/[()]/g, '\\$&')} \\(`));
        if (embeddedIn) assert.match(error.message, new RegExp(`in ${embeddedIn} form`));
        assert.deepEqual(resolved, []);
        const logged = loggedRefusal();
        assert.equal(logged.reason, 'forbidden_address');
        assert.match(logged.detail, new RegExp(kind.replace(/[()]/g, '\\$&')));
      });

      it(`refuses a public-looking name that resolves to ${address} (${label}), logging the address but not telling the client`, async () => {
        const fetch = outbound({ 'cimd.example.com': [address] });
        const error = await refusal(fetch('https://cimd.example.com/client.json'));
        assert.equal(error.reason, 'forbidden_address');
        // The client learns the class of address, never the address (that would map internal DNS for it).
        assert.equal(error.message, `cimd.example.com resolves to an address that is not public: ${describeForbidden(forbiddenAddress(address)!)}`);
        assert.deepEqual(resolved, ['cimd.example.com']);
        const logged = loggedRefusal();
        assert.equal(logged.reason, 'forbidden_address');
        assert.ok(logged.detail.includes(`resolves to ${address}`), logged.detail);
        assert.equal(logged.url, 'https://cimd.example.com/client.json');
      });
    }

    it('lets public unicast addresses through, including public IPv4 in mapped and NAT64 forms', () => {
      for (const address of PUBLIC) assert.equal(forbiddenAddress(address), undefined, address);
    });

    it('refuses a name when any one of its addresses is forbidden', async () => {
      const fetch = outbound({ 'mixed.example.com': ['93.184.216.34', '2606:4700::1', '10.0.0.7'] });
      const error = await refusal(fetch('https://mixed.example.com/client.json'));
      assert.equal(error.reason, 'forbidden_address');
      assert.match(loggedRefusal().detail, /10\.0\.0\.7: private/);
    });
  });

  describe('host names and URLs', () => {
    for (const url of NUMERIC_HOSTS) {
      it(`normalises ${url} and refuses the loopback or metadata address it names`, async () => {
        const fetch = outbound();
        const error = await refusal(fetch(url));
        assert.equal(error.reason, 'forbidden_address');
        assert.match(error.message, /loopback|link-local/);
        assert.deepEqual(resolved, []);
      });
    }

    for (const name of INTERNAL_NAMES) {
      it(`refuses the internal name ${name} before resolving it`, async () => {
        const fetch = outbound({ [name.toLowerCase().replace(/\.$/, '')]: ['93.184.216.34'] });
        const error = await refusal(fetch(`https://${name}/client.json`));
        assert.equal(error.reason, 'internal_hostname');
        assert.match(error.message, /internal host name|single-label host name/);
        assert.deepEqual(resolved, []);
        assert.equal(loggedRefusal().reason, 'internal_hostname');
      });
    }

    it('refuses http, and URLs that carry credentials', async () => {
      const fetch = outbound({ 'cimd.example.com': ['93.184.216.34'] });
      assert.equal((await refusal(fetch('http://cimd.example.com/client.json'))).reason, 'not_https');
      assert.equal((await refusal(fetch('https://user:secret@cimd.example.com/client.json'))).reason, 'credentials_in_url');
      assert.deepEqual(resolved, []);
      assert.ok(!JSON.stringify(captured.lines).includes('secret'), 'credentials stay out of the log');
    });

    it('reports a name that does not resolve', async () => {
      const fetch = outbound();
      const error = await refusal(fetch('https://nowhere.example.com/client.json'));
      assert.equal(error.reason, 'unresolvable');
      assert.equal(loggedRefusal().reason, 'unresolvable');
    });
  });

  describe('the connection (a real https server on loopback, trusted through a test CA)', () => {
    let certificates: TestCertificates;
    let fixture: HttpsFixture;
    before(async () => {
      certificates = makeTestCertificates(['cimd.example.com']);
      fixture = await startHttpsFixture(certificates);
      fixture.json('/client.json', { client_id: 'x' }, { 'cache-control': 'max-age=60' });
      fixture.route('/redirect', (_req, res) => res.writeHead(302, { location: '/client.json' }).end());
      fixture.route('/large', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('x'.repeat(6000)));
      fixture.route('/large-chunked', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 6; i += 1) res.write('x'.repeat(1000));
        res.end();
      });
      fixture.route('/silent', () => {});
    });
    after(async () => {
      await fixture.close();
      certificates.remove();
    });

    const trusting = (table: Record<string, string[]>, options: Partial<OutboundOptions> = {}) =>
      outbound(table, { extraCa: certificates.ca, allowLoopback: true, ...options });

    it('connects to the address it checked, resolving only once (no DNS-rebinding window)', async () => {
      captured = captureLog();
      let lookups = 0;
      const fetch = createOutboundFetch({
        log: captured.log, extraCa: certificates.ca, allowLoopback: true,
        // First answer passes the check; any later answer would point somewhere forbidden.
        resolve: async () => [{ address: lookups++ === 0 ? '127.0.0.1' : '10.0.0.1', family: 4 }],
      });
      const response = await fetch(`https://cimd.example.com:${fixture.port}/client.json`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { client_id: 'x' });
      assert.equal(response.headers.get('cache-control'), 'max-age=60');
      assert.equal(lookups, 1);
    });

    it('checks the certificate against the host name, not the pinned address', async () => {
      const fetch = trusting({ 'other.example.com': ['127.0.0.1'] });
      const error = await refusal(fetch(`https://other.example.com:${fixture.port}/client.json`));
      assert.equal(error.reason, 'tls');
      assert.equal(loggedRefusal().reason, 'tls');
    });

    it('does not trust a certificate from an unknown CA', async () => {
      const fetch = outbound({ 'cimd.example.com': ['127.0.0.1'] }, { allowLoopback: true });
      assert.equal((await refusal(fetch(`https://cimd.example.com:${fixture.port}/client.json`))).reason, 'tls');
    });

    it('does not follow redirects', async () => {
      const fetch = trusting({ 'cimd.example.com': ['127.0.0.1'] });
      const seen = fixture.requests.length;
      const error = await refusal(fetch(`https://cimd.example.com:${fixture.port}/redirect`));
      assert.equal(error.reason, 'redirect');
      assert.deepEqual(fixture.requests.slice(seen), ['GET /redirect']);
    });

    it('stops reading a body larger than the cap, announced or streamed', async () => {
      const fetch = trusting({ 'cimd.example.com': ['127.0.0.1'] }, { maxResponseBytes: 5 * 1024 });
      for (const path of ['/large', '/large-chunked']) {
        const error = await refusal(fetch(`https://cimd.example.com:${fixture.port}${path}`));
        assert.equal(error.reason, 'too_large', path);
        assert.match(error.message, /larger than 5120 bytes/);
      }
    });

    it('gives up on a server that does not answer in time', async () => {
      const fetch = trusting({ 'cimd.example.com': ['127.0.0.1'] }, { timeoutMs: 200 });
      const error = await refusal(fetch(`https://cimd.example.com:${fixture.port}/silent`));
      assert.equal(error.reason, 'timeout');
    });

    it('lets the test-only loopback switch through loopback and nothing else', async () => {
      const fetch = trusting({ 'cimd.example.com': ['10.0.0.1'], 'mapped.example.com': ['::ffff:127.0.0.1'] });
      assert.equal((await refusal(fetch('https://cimd.example.com/client.json'))).reason, 'forbidden_address');
      assert.equal((await refusal(fetch('https://mapped.example.com/client.json'))).reason, 'forbidden_address');
      assert.equal((await refusal(fetch('https://169.254.169.254/latest/meta-data/'))).reason, 'forbidden_address');
    });
  });
});
