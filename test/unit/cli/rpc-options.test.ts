/** The values of catena node's RPC limit flags: durations, gas amounts and lists. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidArgumentError } from 'commander'
import { parseDurationMs, parseGasOption, parseList } from '../../../src/cli/commands/options.ts'

test('--rpc-evmtimeout takes geth-style durations; a bare number is seconds', () => {
  assert.equal(parseDurationMs('5s'), 5000)
  assert.equal(parseDurationMs('500ms'), 500)
  assert.equal(parseDurationMs('1.5s'), 1500)
  assert.equal(parseDurationMs('2m'), 120_000)
  assert.equal(parseDurationMs('3'), 3000)
  assert.equal(parseDurationMs('0'), 0)
  for (const bad of ['', '5x', '-1s', 'Infinity', '1e3', 's', '25h', '99999999999999999999']) {
    assert.throws(() => parseDurationMs(bad), InvalidArgumentError, bad)
  }
})

test('--rpc-gascap takes decimal gas below 2^64', () => {
  assert.equal(parseGasOption('50000000'), 50_000_000n)
  assert.equal(parseGasOption('0'), 0n)
  assert.equal(parseGasOption(String(2n ** 64n - 1n)), 2n ** 64n - 1n)
  for (const bad of [String(2n ** 64n), '-1', '0x10', '1e6', '', 'lots']) assert.throws(() => parseGasOption(bad), InvalidArgumentError, bad)
})

test('--rpc-vhosts and --ws-origins are comma-separated lists without empty items', () => {
  assert.deepEqual(parseList('localhost, node.example,,'), ['localhost', 'node.example'])
  assert.deepEqual(parseList('*'), ['*'])
})
