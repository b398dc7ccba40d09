/**
 * Address groups (Bitcoin Core's netgroups): the unit the eclipse countermeasures limit.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { netGroup } from '../../../src/net/netgroup.ts'

describe('address groups', () => {
  test('IPv4 by /16, IPv6 by /32, IPv4-mapped IPv6 as IPv4', () => {
    assert.equal(netGroup('8.8.4.4'), 'ip4:8.8')
    assert.equal(netGroup('8.8.200.1'), netGroup('8.8.4.4'))
    assert.notEqual(netGroup('8.9.4.4'), netGroup('8.8.4.4'))
    assert.equal(netGroup('::ffff:8.8.4.4'), 'ip4:8.8')
    assert.equal(netGroup('2001:db8:1:2::5'), 'ip6:2001:db8')
    assert.equal(netGroup('2001:db8:ffff::1'), netGroup('2001:0db8::2'))
    assert.notEqual(netGroup('2001:db9::1'), netGroup('2001:db8::1'))
  })

  test('addresses that are not publicly routable have no group (group limits do not apply)', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.1', '192.168.1.1', '100.64.0.1', '169.254.1.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', 'ff02::1']) {
      assert.equal(netGroup(ip), undefined, ip)
    }
    for (const ip of ['172.32.0.1', '100.128.0.1', '11.0.0.1']) assert.notEqual(netGroup(ip), undefined, ip)
  })

  test('junk is not an address', () => {
    for (const ip of ['', 'example.com', '1.2.3', '1.2.3.256', '1:2:3', 'g::1', '1::2::3']) assert.equal(netGroup(ip), undefined, ip)
  })
})
