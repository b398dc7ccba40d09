import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidArgumentError } from 'commander'
import {
  AmountError,
  formatAmount,
  parseAmount,
  parseChecksummedAddressOption,
  parseEtherAmountOption,
  parseGasLimitOption,
  parseGweiAmountOption,
  parseHexDataOption,
  parseRpcUrlOption,
} from '../../../src/cli/commands/options.ts'

const ETH = 10n ** 18n
const GWEI = 10n ** 9n

describe('parseAmount', () => {
  test('a bare number is ether by default', () => {
    assert.equal(parseAmount('1'), ETH)
    assert.equal(parseAmount('1.5'), 1_500_000_000_000_000_000n)
    assert.equal(parseAmount('0.000000000000000001'), 1n)
    assert.equal(parseAmount('.5'), ETH / 2n)
    assert.equal(parseAmount('2.'), 2n * ETH)
    assert.equal(parseAmount('0'), 0n)
  })

  test('unit suffixes, any case, with or without a space', () => {
    assert.equal(parseAmount('1.5eth'), 1_500_000_000_000_000_000n)
    assert.equal(parseAmount('1.5ether'), 1_500_000_000_000_000_000n)
    assert.equal(parseAmount('1.5 ETH'), 1_500_000_000_000_000_000n)
    assert.equal(parseAmount('20gwei'), 20n * GWEI)
    assert.equal(parseAmount('20 Gwei'), 20n * GWEI)
    assert.equal(parseAmount('1.000000001gwei'), GWEI + 1n)
    assert.equal(parseAmount('100wei'), 100n)
  })

  test('the default unit applies only without a suffix', () => {
    assert.equal(parseAmount('1.5', 'gwei'), 1_500_000_000n)
    assert.equal(parseAmount('1.5eth', 'gwei'), 1_500_000_000_000_000_000n)
    assert.equal(parseAmount('7', 'wei'), 7n)
  })

  test('exact with bigint: values a float would round', () => {
    // 0.1 + 0.2 style errors and 2^53 limits do not apply.
    assert.equal(parseAmount('0.3'), 300_000_000_000_000_000n)
    assert.equal(parseAmount('123456789.123456789123456789'), 123_456_789_123_456_789_123_456_789n)
    assert.equal(parseAmount('9007199254740993wei'), 9_007_199_254_740_993n)
    // Trailing zeros past the unit's precision are harmless.
    assert.equal(parseAmount('1.50000000000000000000000'), 1_500_000_000_000_000_000n)
  })

  test('the largest uint256 is accepted, one more is not', () => {
    const max = (1n << 256n) - 1n
    assert.equal(parseAmount(`${max}wei`), max)
    assert.throws(() => parseAmount(`${max + 1n}wei`), (e: AmountError) => e.code === 'AMOUNT_TOO_LARGE')
  })

  const bad: [string, string][] = [
    ['', 'INVALID_AMOUNT'],
    ['.', 'INVALID_AMOUNT'],
    ['eth', 'INVALID_AMOUNT'],
    ['abc', 'INVALID_AMOUNT'],
    ['1e18', 'INVALID_AMOUNT'],
    ['1,5', 'INVALID_AMOUNT'],
    ['1.2.3', 'INVALID_AMOUNT'],
    ['0x10', 'INVALID_AMOUNT'],
    ['NaN', 'INVALID_AMOUNT'],
    ['-1', 'NEGATIVE_AMOUNT'],
    ['1.5btc', 'UNKNOWN_UNIT'],
    ['1.5wei', 'TOO_MANY_DECIMALS'],
    ['1.0000000001gwei', 'TOO_MANY_DECIMALS'],
    ['0.0000000000000000001', 'TOO_MANY_DECIMALS'],
  ]
  for (const [text, code] of bad) {
    test(`refuses ${JSON.stringify(text)} with ${code}`, () => {
      assert.throws(
        () => parseAmount(text),
        (e: unknown) => e instanceof AmountError && e.code === code && e.message.length > 0 && !e.message.includes('\n'),
      )
    })
  }
})

describe('formatAmount', () => {
  test('plain decimals without trailing zeros', () => {
    assert.equal(formatAmount(1_500_000_000_000_000_000n), '1.5')
    assert.equal(formatAmount(ETH), '1')
    assert.equal(formatAmount(1n), '0.000000000000000001')
    assert.equal(formatAmount(0n), '0')
    assert.equal(formatAmount(2_750_000_000n, 'gwei'), '2.75')
    assert.equal(formatAmount(-ETH / 2n), '-0.5')
  })

  test('round-trips with parseAmount', () => {
    for (const wei of [0n, 1n, 999n, 10n ** 17n, 12_345_678_901_234_567_890_123n, (1n << 256n) - 1n]) {
      assert.equal(parseAmount(formatAmount(wei)), wei)
      assert.equal(parseAmount(`${formatAmount(wei, 'gwei')}gwei`), wei)
    }
  })
})

describe('commander option parsers', () => {
  test('amount options turn AmountError into InvalidArgumentError', () => {
    assert.equal(parseEtherAmountOption('2'), 2n * ETH)
    assert.equal(parseGweiAmountOption('2'), 2n * GWEI)
    assert.throws(() => parseEtherAmountOption('two'), InvalidArgumentError)
  })

  test('gas limit: positive integer below 2^64', () => {
    assert.equal(parseGasLimitOption('21000'), 21000n)
    for (const bad of ['0', '-1', '1.5', '21k', '', String(1n << 64n)]) {
      assert.throws(() => parseGasLimitOption(bad), InvalidArgumentError, bad)
    }
  })

  test('hex data: even-length 0x hex', () => {
    assert.equal(parseHexDataOption('0x'), '0x')
    assert.equal(parseHexDataOption('0xABcd'), '0xabcd')
    for (const bad of ['abcd', '0xabc', '0xzz', '']) assert.throws(() => parseHexDataOption(bad), InvalidArgumentError, bad)
  })

  test('addresses: EIP-55 checksum enforced on mixed case, output checksummed', () => {
    const good = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
    assert.equal(parseChecksummedAddressOption(good), good)
    assert.equal(parseChecksummedAddressOption(good.toLowerCase()), good)
    assert.throws(() => parseChecksummedAddressOption('0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266'), /checksum/)
    assert.throws(() => parseChecksummedAddressOption('0x1234'), InvalidArgumentError)
    assert.throws(() => parseChecksummedAddressOption('0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266'), InvalidArgumentError)
  })

  test('RPC URLs: http and https only', () => {
    assert.equal(parseRpcUrlOption('http://127.0.0.1:8545'), 'http://127.0.0.1:8545')
    assert.equal(parseRpcUrlOption('https://rpc.example.org/v1'), 'https://rpc.example.org/v1')
    for (const bad of ['127.0.0.1:8545', 'ws://127.0.0.1:8545', 'not a url', '']) {
      assert.throws(() => parseRpcUrlOption(bad), InvalidArgumentError, bad)
    }
  })
})
