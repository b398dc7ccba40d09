import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  RpcError, expectParams, parseAddress, parseBlockNumberOrTag, parseBlockTag, parseBool, parseData, parseHash,
  parseLogFilter, parseQuantity, parseTxCallObject, toData, toQuantity,
} from '../../../src/api/rpc/index.ts'

/** Asserts a -32602 whose message names the parameter and matches `reason`. */
function rejects(fn: () => unknown, name: string, reason?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RpcError, `expected RpcError, got ${String(err)}`)
    assert.equal(err.code, -32602)
    assert.equal(err.kind, 'INVALID_PARAMS')
    assert.ok(err.message.includes(name), `"${err.message}" names ${name}`)
    if (reason) assert.match(err.message, reason)
    return true
  })
}

const hex = (b: Uint8Array) => toData(b)
const H32 = '0x' + '1f'.repeat(32)
const A20 = '0x' + 'aB'.repeat(20)

describe('expectParams', () => {
  test('accepts counts within bounds', () => {
    expectParams([1], 1)
    expectParams([1], 1, 2)
    expectParams([1, 2], 1, 2)
    expectParams([], 0, 1)
  })
  test('rejects missing, null-required and extra arguments (geth wording)', () => {
    assert.throws(() => expectParams([], 1), { code: -32602, message: 'missing value for required argument 0' })
    assert.throws(() => expectParams([1, null], 2), { code: -32602, message: 'missing value for required argument 1' })
    assert.throws(() => expectParams([1, 2, 3], 1, 2), { code: -32602, message: 'too many arguments, want at most 2' })
  })
})

describe('parseQuantity (geth hexutil.Big / Uint64 vectors)', () => {
  test('valid', () => {
    const cases: [string, bigint][] = [
      ['0x0', 0n], ['0x2', 2n], ['0x2F2', 0x2f2n], ['0X2F2', 0x2f2n], ['0x1122aaff', 0x1122aaffn], ['0xbBb', 0xbbbn],
      ['0xfffffffff', 0xfffffffffn],
      ['0x' + 'f'.repeat(64), (1n << 256n) - 1n],
    ]
    for (const [input, want] of cases) assert.equal(parseQuantity(input, 'q'), want, input)
    assert.equal(parseQuantity('0xffffffffffffffff', 'gas', 64), (1n << 64n) - 1n)
  })
  test('invalid', () => {
    rejects(() => parseQuantity('', 'value'), 'value', /empty hex string/)
    rejects(() => parseQuantity('0', 'value'), 'value', /without 0x prefix/)
    rejects(() => parseQuantity('12', 'value'), 'value', /without 0x prefix/)
    rejects(() => parseQuantity('0x', 'value'), 'value', /no digits/)
    rejects(() => parseQuantity('0x01', 'value'), 'value', /leading zero/)
    rejects(() => parseQuantity('0x00', 'value'), 'value', /leading zero/)
    rejects(() => parseQuantity('0xx', 'value'), 'value', /invalid hex/)
    rejects(() => parseQuantity('0x1zz01', 'value'), 'value', /invalid hex/)
    rejects(() => parseQuantity('0x -1', 'value'), 'value', /invalid hex/)
    rejects(() => parseQuantity('0x1' + '0'.repeat(64), 'value'), 'value', /> 256 bits/)
    rejects(() => parseQuantity('0x10000000000000000', 'gas', 64), 'gas', /> 64 bits/)
    rejects(() => parseQuantity(5, 'value'), 'value', /got number/)
    rejects(() => parseQuantity(null, 'value'), 'value', /got null/)
    rejects(() => parseQuantity(undefined, 'value'), 'value')
    rejects(() => parseQuantity(['0x1'], 'value'), 'value', /got array/)
  })
})

describe('parseData (geth hexutil.Bytes vectors)', () => {
  test('valid', () => {
    assert.deepEqual(parseData('0x', 'd'), new Uint8Array())
    assert.deepEqual(parseData('0x02', 'd'), Uint8Array.from([2]))
    assert.deepEqual(parseData('0X02', 'd'), Uint8Array.from([2]))
    assert.deepEqual(parseData('0xffffffffff', 'd'), new Uint8Array(5).fill(255))
    assert.equal(hex(parseData('0x00AbCd', 'd')), '0x00abcd')
  })
  test('invalid', () => {
    rejects(() => parseData('', 'data'), 'data', /empty/)
    rejects(() => parseData('0', 'data'), 'data', /prefix/)
    rejects(() => parseData('0x0', 'data'), 'data', /odd length/)
    rejects(() => parseData('0xxx', 'data'), 'data', /invalid hex/)
    rejects(() => parseData('0x01zz01', 'data'), 'data', /invalid hex/)
    rejects(() => parseData({}, 'data'), 'data', /got object/)
  })
})

describe('parseAddress / parseHash', () => {
  test('valid, any case, no checksum check (as geth)', () => {
    assert.equal(hex(parseAddress(A20, 'to')), A20.toLowerCase())
    assert.equal(hex(parseAddress(A20.toUpperCase().replace('0X', '0x'), 'to')), A20.toLowerCase())
    assert.equal(parseHash(H32, 'h').length, 32)
  })
  test('invalid', () => {
    rejects(() => parseAddress('0x' + 'aa'.repeat(19), 'to'), 'to', /length 38, want 40/)
    rejects(() => parseAddress('0x' + 'aa'.repeat(21), 'to'), 'to', /length 42, want 40/)
    rejects(() => parseAddress('aa'.repeat(20), 'to'), 'to', /prefix/)
    rejects(() => parseAddress('0x' + 'gg'.repeat(20), 'to'), 'to', /invalid hex/)
    rejects(() => parseAddress(H32, 'to'), 'to')
    rejects(() => parseHash(A20, 'blockHash'), 'blockHash', /want 64/)
    rejects(() => parseHash(42, 'blockHash'), 'blockHash')
  })
})

describe('parseBool', () => {
  test('booleans only', () => {
    assert.equal(parseBool(true, 'full'), true)
    assert.equal(parseBool(false, 'full'), false)
    rejects(() => parseBool('true', 'full'), 'full', /boolean/)
    rejects(() => parseBool(0, 'full'), 'full')
  })
})

describe('parseBlockTag / parseBlockNumberOrTag', () => {
  test('tags and numbers', () => {
    for (const tag of ['latest', 'earliest', 'pending', 'safe', 'finalized']) {
      assert.deepEqual(parseBlockTag(tag, 'block'), { tag })
      assert.deepEqual(parseBlockNumberOrTag(tag, 'block'), { tag })
    }
    assert.deepEqual(parseBlockTag('0x0', 'block'), { number: 0n })
    assert.deepEqual(parseBlockTag('0x1b4', 'block'), { number: 436n })
    assert.deepEqual(parseBlockNumberOrTag('0x7fffffffffffffff', 'block'), { number: (1n << 63n) - 1n })
  })
  test('hash strings and EIP-1898 objects', () => {
    const byHash = parseBlockTag(H32, 'block')
    assert.ok('hash' in byHash)
    assert.equal(hex(byHash.hash), H32)
    assert.equal(byHash.requireCanonical, false)
    assert.deepEqual(parseBlockTag({ blockNumber: '0x10' }, 'block'), { number: 16n })
    assert.deepEqual(parseBlockTag({ blockNumber: 'safe' }, 'block'), { tag: 'safe' })
    const obj = parseBlockTag({ blockHash: H32, requireCanonical: true }, 'block')
    assert.ok('hash' in obj && obj.requireCanonical === true && hex(obj.hash) === H32)
    const loose = parseBlockTag({ blockHash: H32 }, 'block')
    assert.ok('hash' in loose && loose.requireCanonical === false)
  })
  test('fallback for an absent optional block', () => {
    assert.deepEqual(parseBlockTag(undefined, 'block', { tag: 'latest' }), { tag: 'latest' })
    assert.deepEqual(parseBlockTag(null, 'block', { tag: 'latest' }), { tag: 'latest' })
    rejects(() => parseBlockTag(undefined, 'block'), 'block')
  })
  test('invalid', () => {
    rejects(() => parseBlockTag('Latest', 'block'), 'block', /prefix/)
    rejects(() => parseBlockTag('0x01', 'block'), 'block', /leading zero/)
    rejects(() => parseBlockTag('0x8000000000000000', 'block'), 'block', /int64/)
    rejects(() => parseBlockTag('0x10000000000000000', 'block'), 'block', /64 bits/)
    rejects(() => parseBlockTag(12, 'block'), 'block', /got number/)
    rejects(() => parseBlockTag({}, 'block'), 'block', /blockNumber or blockHash/)
    rejects(() => parseBlockTag({ blockNumber: '0x1', blockHash: H32 }, 'block'), 'block', /both/)
    rejects(() => parseBlockTag({ blockHash: '0x12' }, 'block'), 'block.blockHash')
    rejects(() => parseBlockTag({ blockHash: H32, requireCanonical: 'yes' }, 'block'), 'block.requireCanonical')
    rejects(() => parseBlockTag({ blockNumber: '0x1', requireCanonical: true }, 'block'), 'block', /requireCanonical/)
    rejects(() => parseBlockTag('0x' + 'zz'.repeat(32), 'block'), 'block', /invalid hex/)
    rejects(() => parseBlockNumberOrTag(H32, 'fromBlock'), 'fromBlock', /64 bits/)
  })
})

describe('parseTxCallObject', () => {
  test('all fields', () => {
    const tx = parseTxCallObject({
      from: A20, to: '0x' + '22'.repeat(20), gas: '0x5208', maxFeePerGas: '0x3b9aca00', maxPriorityFeePerGas: '0x1',
      value: '0xde0b6b3a7640000', input: '0xa9059cbb', nonce: '0x7', type: '0x2', chainId: '0x539',
      accessList: [{ address: A20, storageKeys: [H32] }], unknownField: 'ignored',
    })
    assert.equal(hex(tx.from!), A20.toLowerCase())
    assert.equal(hex(tx.to!), '0x' + '22'.repeat(20))
    assert.equal(tx.gas, 21000n)
    assert.equal(tx.maxFeePerGas, 1_000_000_000n)
    assert.equal(tx.maxPriorityFeePerGas, 1n)
    assert.equal(tx.value, 10n ** 18n)
    assert.equal(hex(tx.data!), '0xa9059cbb')
    assert.equal(tx.nonce, 7n)
    assert.equal(tx.type, 2)
    assert.equal(tx.chainId, 1337n)
    assert.equal(tx.accessList!.length, 1)
    assert.equal(hex(tx.accessList![0]!.storageKeys[0]!), H32)
  })
  test('empty object, null to (creation), data alias, equal data+input', () => {
    assert.deepEqual(parseTxCallObject({}), {})
    assert.deepEqual(parseTxCallObject({ to: null, gasPrice: null }), {})
    assert.equal(hex(parseTxCallObject({ data: '0x6001' }).data!), '0x6001')
    assert.equal(hex(parseTxCallObject({ data: '0x6001', input: '0x6001' }).data!), '0x6001')
    assert.equal(parseTxCallObject({ gasPrice: '0x1' }).gasPrice, 1n)
  })
  test('invalid', () => {
    rejects(() => parseTxCallObject('0x1'), 'transaction', /object/)
    rejects(() => parseTxCallObject(null), 'transaction', /object/)
    rejects(() => parseTxCallObject({ data: '0x01', input: '0x02' }), 'transaction', /'data' and 'input'/)
    rejects(() => parseTxCallObject({ gasPrice: '0x1', maxFeePerGas: '0x1' }), 'transaction', /both gasPrice/)
    rejects(() => parseTxCallObject({ maxFeePerGas: '0x1', maxPriorityFeePerGas: '0x2' }), 'transaction', /maxFeePerGas \(1\) < maxPriorityFeePerGas \(2\)/)
    rejects(() => parseTxCallObject({ to: '0x12' }), 'transaction.to')
    rejects(() => parseTxCallObject({ from: 5 }), 'transaction.from')
    rejects(() => parseTxCallObject({ gas: '0x10000000000000000' }), 'transaction.gas', /64 bits/)
    rejects(() => parseTxCallObject({ value: '0x01' }), 'transaction.value', /leading zero/)
    rejects(() => parseTxCallObject({ input: '0x1' }), 'transaction.input', /odd/)
    rejects(() => parseTxCallObject({ type: '0x80' }), 'transaction.type', /out of range/)
    rejects(() => parseTxCallObject({ accessList: {} }), 'transaction.accessList')
    rejects(() => parseTxCallObject({ accessList: [{ address: A20, storageKeys: ['0x1'] }] }), 'transaction.accessList[0].storageKeys[0]')
  })
})

describe('parseLogFilter', () => {
  const T1 = '0x' + '01'.repeat(32)
  const T2 = '0x' + '02'.repeat(32)
  test('full filter with a block range', () => {
    const f = parseLogFilter({ fromBlock: '0x1', toBlock: 'latest', address: A20, topics: [T1, null, [T1, T2]] })
    assert.deepEqual(f.fromBlock, { number: 1n })
    assert.deepEqual(f.toBlock, { tag: 'latest' })
    assert.equal(f.blockHash, undefined)
    assert.deepEqual(f.addresses.map(hex), [A20.toLowerCase()])
    assert.equal(f.topics.length, 3)
    assert.deepEqual(f.topics[0]!.map(hex), [T1])
    assert.equal(f.topics[1], null)
    assert.deepEqual(f.topics[2]!.map(hex), [T1, T2])
  })
  test('defaults, address arrays, blockHash, wildcard forms', () => {
    assert.deepEqual(parseLogFilter({}), { addresses: [], topics: [] })
    const f = parseLogFilter({ blockHash: H32, address: [A20, '0x' + '33'.repeat(20)], topics: [[], [T1, null]] })
    assert.equal(hex(f.blockHash!), H32)
    assert.equal(f.addresses.length, 2)
    assert.deepEqual(f.topics, [null, null], 'empty array and null inside an array are wildcards (geth)')
  })
  test('invalid', () => {
    rejects(() => parseLogFilter('x'), 'filter', /object/)
    rejects(() => parseLogFilter({ blockHash: H32, fromBlock: '0x1' }), 'filter', /both blockHash/)
    rejects(() => parseLogFilter({ blockHash: H32, toBlock: 'latest' }), 'filter', /both blockHash/)
    rejects(() => parseLogFilter({ fromBlock: H32 }), 'filter.fromBlock')
    rejects(() => parseLogFilter({ toBlock: 'newest' }), 'filter.toBlock')
    rejects(() => parseLogFilter({ address: '0x12' }), 'filter.address')
    rejects(() => parseLogFilter({ address: [A20, 'x'] }), 'filter.address[1]')
    rejects(() => parseLogFilter({ topics: T1 }), 'filter.topics', /array/)
    rejects(() => parseLogFilter({ topics: [T1, T1, T1, T1, T1] }), 'filter.topics', /too many/)
    rejects(() => parseLogFilter({ topics: ['0x12'] }), 'filter.topics[0]')
    rejects(() => parseLogFilter({ topics: [null, [T1, 7]] }), 'filter.topics[1][1]')
    rejects(() => parseLogFilter({ blockHash: '0x1' }), 'filter.blockHash')
  })
})

describe('toQuantity / toData', () => {
  test('encodings', () => {
    assert.equal(toQuantity(0), '0x0')
    assert.equal(toQuantity(0n), '0x0')
    assert.equal(toQuantity(255), '0xff')
    assert.equal(toQuantity(1n << 255n), '0x8' + '0'.repeat(63))
    assert.equal(toData(new Uint8Array()), '0x')
    assert.equal(toData(Uint8Array.from([0, 1, 0xab])), '0x0001ab')
  })
  test('round trips', () => {
    for (const n of [0n, 1n, 0x100n, (1n << 256n) - 1n]) assert.equal(parseQuantity(toQuantity(n), 'n'), n)
  })
  test('rejects values that are not non-negative integers', () => {
    assert.throws(() => toQuantity(-1), RangeError)
    assert.throws(() => toQuantity(-1n), RangeError)
    assert.throws(() => toQuantity(1.5), RangeError)
  })
})
