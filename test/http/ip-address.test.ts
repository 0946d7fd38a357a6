import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressSubject, parseIPv4, parseIPv6 } from '../../src/http/ip-address.ts';

describe('IP address parsing', () => {
  it('reads dotted-quad IPv4 and nothing else', () => {
    assert.equal(parseIPv4('127.0.0.1'), 0x7f000001);
    assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
    for (const text of ['127.1', '0x7f.0.0.1', '256.0.0.1', '::1', 'example.com']) assert.equal(parseIPv4(text), undefined, text);
  });

  it('expands IPv6, with brackets, a zone or a dotted IPv4 tail', () => {
    assert.deepEqual(parseIPv6('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(parseIPv6('[2001:db8::8:800:200c:417a]'), [0x2001, 0xdb8, 0, 0, 0x8, 0x800, 0x200c, 0x417a]);
    assert.deepEqual(parseIPv6('fe80::1%eth0'), [0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(parseIPv6('::ffff:127.0.0.1'), parseIPv6('::ffff:7f00:1'));
    assert.equal(parseIPv6('1.2.3.4'), undefined);
  });

  it('counts IPv4 clients by address and IPv6 clients by their /64', () => {
    assert.equal(addressSubject('203.0.113.7'), '203.0.113.7');
    assert.equal(addressSubject('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(addressSubject('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressSubject('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  });
});
