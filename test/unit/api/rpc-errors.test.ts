import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  RpcError, decodeRevertReason, executionReverted, internalError, invalidParams, invalidRequest, limitExceeded,
  methodNotFound, parseData, parseError, serverError, toRpcError,
} from '../../../src/api/rpc/index.ts'
import { captureLogger } from './rpc-helpers.ts'

// Revert data as solc 0.8 emits it: require(false, "Not enough Ether provided.") (Solidity docs example).
const ERROR_STRING = '0x08c379a0' +
  '0000000000000000000000000000000000000000000000000000000000000020' +
  '000000000000000000000000000000000000000000000000000000000000001a' +
  '4e6f7420656e6f7567682045746865722070726f76696465642e000000000000'

describe('RpcError constructors', () => {
  test('standard codes and kinds', () => {
    const cases: [RpcError, number, string][] = [
      [parseError(), -32700, 'PARSE_ERROR'],
      [invalidRequest(), -32600, 'INVALID_REQUEST'],
      [methodNotFound('eth_foo'), -32601, 'METHOD_NOT_FOUND'],
      [invalidParams('invalid x'), -32602, 'INVALID_PARAMS'],
      [internalError(), -32603, 'INTERNAL_ERROR'],
      [serverError('nonce too low'), -32000, 'SERVER_ERROR'],
      [limitExceeded('too many'), -32005, 'LIMIT_EXCEEDED'],
      [executionReverted('0x'), 3, 'EXECUTION_REVERTED'],
    ]
    for (const [err, code, kind] of cases) {
      assert.ok(err instanceof Error)
      assert.equal(err.code, code)
      assert.equal(err.kind, kind)
    }
    assert.equal(methodNotFound('eth_foo').message, 'the method eth_foo does not exist/is not available')
    assert.deepEqual(serverError('x', { a: 1 }).toJSON(), { code: -32000, message: 'x', data: { a: 1 } })
    assert.deepEqual(invalidParams('y').toJSON(), { code: -32602, message: 'y' })
  })

  test('executionReverted decodes Error(string) and keeps the raw data', () => {
    const err = executionReverted(ERROR_STRING)
    assert.equal(err.message, 'execution reverted: Not enough Ether provided.')
    assert.equal(err.data, ERROR_STRING)
    const fromBytes = executionReverted(parseData(ERROR_STRING, 'd'))
    assert.deepEqual(fromBytes.toJSON(), err.toJSON())
  })

  test('executionReverted: Panic codes, custom errors, empty data, explicit reason', () => {
    const panic = (code: number) => '0x4e487b71' + code.toString(16).padStart(64, '0')
    assert.equal(executionReverted(panic(0x01)).message, 'execution reverted: assert(false)')
    assert.equal(executionReverted(panic(0x11)).message, 'execution reverted: arithmetic underflow or overflow')
    assert.equal(executionReverted(panic(0x12)).message, 'execution reverted: division or modulo by zero')
    assert.equal(executionReverted(panic(0x99)).message, 'execution reverted: unknown panic code: 0x99')
    const custom = '0xcf479181' + '00'.repeat(64)
    assert.deepEqual(executionReverted(custom).toJSON(), { code: 3, message: 'execution reverted', data: custom })
    assert.deepEqual(executionReverted('0x').toJSON(), { code: 3, message: 'execution reverted', data: '0x' })
    assert.equal(executionReverted('0x', 'out of gas').message, 'execution reverted: out of gas')
  })

  test('decodeRevertReason rejects truncated or malformed Error(string) data', () => {
    const bytes = parseData(ERROR_STRING, 'd')
    assert.equal(decodeRevertReason(bytes.subarray(0, 40)), undefined)
    assert.equal(decodeRevertReason(bytes.subarray(0, 3)), undefined)
    const badOffset = parseData('0x08c379a0' + 'ff'.repeat(32) + '00'.repeat(32), 'd')
    assert.equal(decodeRevertReason(badOffset), undefined)
    const hugeLength = parseData('0x08c379a0' + '20'.padStart(64, '0') + 'ff'.repeat(32), 'd')
    assert.equal(decodeRevertReason(hugeLength), undefined)
  })

  test('toRpcError passes RpcErrors through and hides anything else behind a logged -32603', () => {
    const { logger, lines } = captureLogger()
    const known = invalidParams('x')
    assert.equal(toRpcError(known, logger), known)
    const hidden = toRpcError(new Error('db path /var/lib/catena corrupted'), logger, 'eth_getBalance')
    assert.deepEqual(hidden.toJSON(), { code: -32603, message: 'internal error' })
    assert.equal(lines.length, 1)
    assert.equal(lines[0]!.method, 'eth_getBalance')
    assert.match(String((lines[0]!.err as { stack: string }).stack), /corrupted/)
  })
})
