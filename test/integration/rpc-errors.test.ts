/**
 * Bad input against a running Catena node (a separate OS process): malformed JSON, unknown
 * methods, bad params, oversized requests, mixed batches and invalid transactions each get
 * a JSON-RPC error with the right code and a clear message; the node stays up, keeps
 * answering, logs no internal error, and its state (head, balances, nonces) does not change.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import WebSocket from 'ws'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'
import { keccak256, numberToHex, type Hex } from 'viem'
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount, sign } from 'viem/accounts'
import { RpcCallError, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const MAX_BODY = 5 * 1024 * 1024
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const RECIPIENT = '0x0000000000000000000000000000000000001234'
const GWEI = 10n ** 9n

/** A dev account with its raw key, so tests can sign transactions no library would build. */
function devKey(index: number): { address: Hex; key: Hex } {
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: index })
  return { address: account.address, key: bytesToHex(account.getHdKey().privateKey!) as Hex }
}

interface Tx1559 {
  chainId?: bigint
  nonce: bigint
  tip?: bigint
  feeCap?: bigint
  gas?: bigint
  to?: Hex
  value?: bigint
  data?: Hex
}

/** Signs an EIP-1559 tx field by field (no validation), returning the raw 0x02 envelope. */
async function signed1559(tx: Tx1559, key: Hex): Promise<Hex> {
  const fields = [
    tx.chainId ?? 1337n,
    tx.nonce,
    tx.tip ?? GWEI,
    tx.feeCap ?? 10n * GWEI,
    tx.gas ?? 21_000n,
    hexToBytes(tx.to ?? RECIPIENT),
    tx.value ?? 1n,
    hexToBytes(tx.data ?? '0x'),
    [],
  ]
  const payload = (list: unknown[]) => concatBytes(Uint8Array.of(2), RLP.encode(list as never))
  const sig = await sign({ hash: keccak256(payload(fields)), privateKey: key })
  return bytesToHex(payload([...fields, sig.yParity ?? 0, BigInt(sig.r), BigInt(sig.s)])) as Hex
}

/** Decodes a 0x02 envelope into its RLP fields, and re-encodes edited fields. */
const fieldsOf = (raw: Hex) => RLP.decode(hexToBytes(raw).subarray(1)) as Uint8Array[]
const envelope = (fields: Uint8Array[]) => bytesToHex(concatBytes(Uint8Array.of(2), RLP.encode(fields))) as Hex
const word = (n: bigint) => hexToBytes(`0x${n.toString(16).padStart(64, '0')}`)

interface Snapshot {
  head: string
  hash: string
  accounts: Record<string, { balance: string; nonce: string; pendingNonce: string }>
}

describe('JSON-RPC error handling of a running node', () => {
  let node: NodeProcess
  const alice = devKey(0)
  const bob = devKey(1)
  const poorKey = generatePrivateKey()
  const poor = privateKeyToAccount(poorKey)
  const watched = [alice.address, bob.address, poor.address, RECIPIENT]

  before(async () => {
    node = await startNode()
    // One mined tx so alice has a nonce to be "too low" against.
    const hash = await node.rpc<Hex>('eth_sendRawTransaction', [await signed1559({ nonce: 0n }, alice.key)])
    await waitFor('the first transfer to be mined', () => node.rpc('eth_getTransactionReceipt', [hash]).then((r) => r !== null))
  })

  after(async () => {
    try {
      if (node) await node.stop()
    } finally {
      if (node) await removeDatadir(node.datadir)
    }
  })

  /** POSTs a raw body; returns the HTTP status and the parsed JSON (undefined for no body). */
  const post = async (body: string | Buffer, contentType = 'application/json') => {
    const res = await fetch(node.rpcUrl, { method: 'POST', headers: { 'content-type': contentType }, body })
    const text = await res.text()
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) }
  }

  const request = (method: string, params?: unknown, id: unknown = 1) =>
    JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })

  /** Calls `method`; asserts an error with `code` whose message matches `message`. */
  const expectError = async (method: string, params: unknown, code: number, message: RegExp) => {
    const { status, json } = await post(request(method, params))
    assert.equal(status, 200, `${method} ${JSON.stringify(params)?.slice(0, 80)}: HTTP status`)
    assert.ok(json.error, `${method} ${JSON.stringify(params)?.slice(0, 80)} should fail, got ${JSON.stringify(json).slice(0, 200)}`)
    assert.equal(json.id, 1)
    assert.equal(json.error.code, code, `${method}: code of "${json.error.message}"`)
    assert.match(json.error.message, message, `${method}: message`)
    assert.equal(json.result, undefined)
  }

  const snapshot = async (): Promise<Snapshot> => {
    const head = await node.rpc<{ number: string; hash: string }>('eth_getBlockByNumber', ['latest', false])
    const accounts: Snapshot['accounts'] = {}
    for (const a of watched) {
      accounts[a] = {
        balance: await node.rpc('eth_getBalance', [a, head.number]),
        nonce: await node.rpc('eth_getTransactionCount', [a, head.number]),
        pendingNonce: await node.rpc('eth_getTransactionCount', [a, 'pending']),
      }
    }
    return { head: head.number, hash: head.hash, accounts }
  }

  test('malformed JSON gets -32700 with a null id', async () => {
    for (const body of ['{"jsonrpc":"2.0","id":1,"method":"eth_chainId"', 'not json at all', '', '{"id":1,,}', '\u0000\u0001']) {
      const { status, json } = await post(body)
      assert.equal(status, 200, JSON.stringify(body))
      assert.equal(json.id, null)
      assert.equal(json.error.code, -32700, JSON.stringify(body))
      assert.match(json.error.message, /^parse error/)
    }
  })

  test('requests that are JSON but not JSON-RPC get -32600', async () => {
    const cases: [string, RegExp, unknown][] = [
      ['5', /expected a JSON object/, null],
      ['"eth_chainId"', /expected a JSON object/, null],
      ['{"jsonrpc":"1.0","id":7,"method":"eth_chainId"}', /jsonrpc must be "2.0"/, 7],
      ['{"id":7,"method":"eth_chainId"}', /jsonrpc must be "2.0"/, 7],
      ['{"jsonrpc":"2.0","id":7}', /method must be a string/, 7],
      ['{"jsonrpc":"2.0","id":7,"method":42}', /method must be a string/, 7],
      ['{"jsonrpc":"2.0","id":{"a":1},"method":"eth_chainId"}', /id must be a string, a number or null/, null],
      ['{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":"x"}', /params must be an array/, 7],
    ]
    for (const [body, message, id] of cases) {
      const { status, json } = await post(body)
      assert.equal(status, 200, body)
      assert.equal(json.error?.code, -32600, body)
      assert.match(json.error.message, message, body)
      assert.equal(json.id, id, body)
    }
    // A non-JSON content type is refused before the body is read.
    const { status, json } = await post(request('eth_chainId'), 'text/plain')
    assert.equal(status, 415)
    assert.equal(json.error.code, -32600)
    assert.match(json.error.message, /content type/)
  })

  test('an unknown method gets -32601 naming it', async () => {
    await expectError('eth_doesNotExist', [], -32601, /^the method eth_doesNotExist does not exist\/is not available$/)
    await expectError('', [], -32601, /does not exist/)
    await expectError('__proto__', [], -32601, /the method __proto__ does not exist/)
    const long = `x_${'a'.repeat(5000)}`
    const { json } = await post(request(long, []))
    assert.equal(json.error.code, -32601)
    assert.ok(json.error.message.length < 300, 'a long method name is cut in the message')
  })

  test('bad params get -32602 with a message naming the parameter', async () => {
    const addr = alice.address
    const cases: [string, unknown, RegExp][] = [
      // missing
      ['eth_getBalance', [], /missing value for required argument 0/],
      ['eth_getBlockByNumber', [], /missing value for required argument 0/],
      ['eth_call', [], /missing value for required argument 0/],
      ['eth_getStorageAt', [addr], /missing value for required argument 1/],
      ['eth_sendRawTransaction', [null], /missing value for required argument 0/],
      // extra
      ['eth_getBalance', [addr, 'latest', 'extra'], /too many arguments, want at most 2/],
      ['eth_getTransactionReceipt', [`0x${'00'.repeat(32)}`, 1], /too many arguments, want at most 1/],
      ['eth_getLogs', [{}, {}], /too many arguments, want at most 1/],
      // wrong types
      ['eth_getBalance', [1234], /invalid address: expected a 0x-prefixed hex string, got number/],
      ['eth_getBalance', [{ address: addr }], /invalid address: .*got object/],
      ['eth_getBlockByNumber', ['0x1', 'true'], /invalid full transactions flag: expected a boolean, got string/],
      ['eth_getBlockByNumber', [true, false], /invalid block/],
      ['eth_getProof', [addr, 'not-an-array'], /invalid storageKeys/],
      ['eth_feeHistory', ['0x2', 'latest', [50, 'x']], /invalid rewardPercentiles\[1\]/],
      ['eth_feeHistory', ['0x2', 'latest', [90, 10]], /ascending/],
      // bad hex
      ['eth_getBalance', [`0x${'zz'.repeat(20)}`], /invalid address: invalid hex string/],
      ['eth_getBalance', [addr.slice(2)], /invalid address: hex string without 0x prefix/],
      ['eth_getBlockByNumber', ['0x01', false], /invalid block: hex number with leading zero digits/],
      ['eth_getBlockByNumber', ['0x', false], /invalid block: hex string "0x" has no digits/],
      ['eth_getBlockByNumber', ['newest', false], /invalid block/],
      ['eth_sendRawTransaction', ['0x0'], /invalid signed transaction: hex string of odd length/],
      ['eth_sendRawTransaction', ['f86c'], /invalid signed transaction: hex string without 0x prefix/],
      ['eth_call', [{ to: 'xyz' }], /invalid transaction\.to: hex string without 0x prefix/],
      ['eth_getStorageAt', [addr, '0xgg', 'latest'], /invalid storage slot: expected 0x-prefixed hex of at most 32 bytes/],
      // wrong lengths
      ['eth_getBalance', [`0x${'11'.repeat(19)}`], /invalid address: hex string has length 38, want 40/],
      ['eth_getBalance', [`0x${'11'.repeat(21)}`], /invalid address: hex string has length 42, want 40/],
      ['eth_getBlockByHash', [`0x${'11'.repeat(31)}`, false], /invalid block hash: hex string has length 62, want 64/],
      ['eth_getTransactionByHash', ['0x1234'], /invalid transaction hash: hex string has length 4, want 64/],
      ['eth_getBlockByNumber', [`0x1${'0'.repeat(16)}`, false], /invalid block: hex number > 64 bits/],
      // semantic
      ['eth_getLogs', [{ fromBlock: '0x2', toBlock: '0x1' }], /invalid block range: fromBlock 2 is after toBlock 1/],
      ['eth_getLogs', [{ topics: [null, null, null, null, null] }], /too many topic positions: 5, at most 4/],
      ['eth_feeHistory', ['0x0', 'latest'], /invalid blockCount: must be at least 1/],
      ['eth_getBalance', { address: addr }, /expected an array of positional parameters/],
      ['evm_mine', ['soon'], /timestamp must be a non-negative integer or hex quantity/],
      ['evm_setAutomine', ['yes'], /evm_setAutomine expects a boolean/],
      ['evm_increaseTime', [-5], /seconds must be a non-negative integer/],
      ['evm_setNextBlockTimestamp', ['0x1'], /before the head's timestamp/],
      ['eth_subscribe', ['newHeads'], /notifications not supported/],
    ]
    for (const [method, params, message] of cases) {
      const code = method === 'eth_subscribe' ? -32601 : -32602
      await expectError(method, params, code, message)
    }
  })

  test('extra params on methods that take none are rejected, as geth does', async () => {
    for (const method of ['eth_chainId', 'eth_blockNumber', 'net_version', 'eth_gasPrice', 'eth_syncing', 'web3_clientVersion']) {
      await expectError(method, ['unexpected'], -32602, /too many arguments, want at most 0/)
    }
  })

  test('a request over 5 MiB gets -32600 over HTTP and WebSocket, and the socket stays usable', async () => {
    const { status, json } = await postDeclaringOversizedBody(node.rpcUrl, MAX_BODY + 1)
    assert.equal(status, 413)
    assert.equal(json.error.code, -32600)
    assert.equal(json.error.message, 'request body too large: 5242881 bytes, limit 5242880')
    // Just under the limit, the body is read and the request itself is judged.
    const underLimit = await post(request('eth_getBalance', [alice.address, 'latest', 'x'.repeat(MAX_BODY - 1024)]))
    assert.equal(underLimit.status, 200)
    assert.match(underLimit.json.error.message, /too many arguments/)

    const socket = new WebSocket(node.wsUrl)
    try {
      await new Promise<void>((resolve, reject) => { socket.once('open', () => resolve()); socket.once('error', reject) })
      const replies: any[] = []
      socket.on('message', (data) => replies.push(JSON.parse(String(data))))
      socket.send(request('eth_chainId', ['x'.repeat(MAX_BODY + 1024)]))
      await waitFor('the WebSocket error reply', () => replies.length >= 1, { timeoutMs: 20_000 })
      assert.equal(replies[0].error.code, -32600)
      assert.match(replies[0].error.message, /request too large: \d+ bytes, limit 5242880/)
      socket.send(request('eth_chainId', [], 2))
      await waitFor('the next reply on the same socket', () => replies.length >= 2)
      assert.deepEqual(replies[1], { jsonrpc: '2.0', id: 2, result: '0x539' })
    } finally {
      socket.terminate()
    }
  })

  test('batches answer each entry in order; invalid entries get their own errors', async () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
      { jsonrpc: '2.0', id: 2, method: 'no_such_method' },
      { id: 3, method: 'eth_chainId' },
      { jsonrpc: '2.0', method: 'eth_chainId' }, // a notification: no answer
      { jsonrpc: '2.0', id: 4, method: 'eth_getBalance', params: ['0x12'] },
      42,
      { jsonrpc: '2.0', id: 'five', method: 'eth_getBalance', params: [alice.address, 'latest'] },
    ]
    const { status, json } = await post(JSON.stringify(batch))
    assert.equal(status, 200)
    assert.ok(Array.isArray(json))
    assert.equal(json.length, 6)
    assert.deepEqual(json[0], { jsonrpc: '2.0', id: 1, result: '0x539' })
    assert.equal(json[1].id, 2)
    assert.equal(json[1].error.code, -32601)
    assert.equal(json[2].id, 3)
    assert.equal(json[2].error.code, -32600)
    assert.equal(json[3].id, 4)
    assert.equal(json[3].error.code, -32602)
    assert.match(json[3].error.message, /invalid address/)
    assert.equal(json[4].id, null)
    assert.equal(json[4].error.code, -32600)
    assert.equal(json[5].id, 'five')
    assert.equal(json[5].result, await node.rpc('eth_getBalance', [alice.address, 'latest']))

    const empty = await post('[]')
    assert.equal(empty.json.error.code, -32600)
    assert.match(empty.json.error.message, /empty batch/)
    const notificationsOnly = await post(JSON.stringify([{ jsonrpc: '2.0', method: 'eth_chainId' }, { jsonrpc: '2.0', method: 'nope' }]))
    assert.equal(notificationsOnly.status, 204)
    assert.equal(notificationsOnly.json, undefined)
    const tooMany = await post(JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))))
    assert.equal(tooMany.json.error.code, -32600)
    assert.match(tooMany.json.error.message, /batch too large: 1001 requests, limit 1000/)
    const truncated = await post('[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},')
    assert.equal(truncated.json.error.code, -32700)
  })

  test('invalid transactions are refused with clear errors and change nothing', async () => {
    const before = await snapshot()
    const nonce = BigInt(before.accounts[alice.address].nonce)
    assert.equal(nonce, 1n)
    const good = await signed1559({ nonce }, alice.key)
    const goodFields = fieldsOf(good)
    const withField = (i: number, value: Uint8Array) => envelope(goodFields.map((f, j) => (j === i ? value : f)))
    const s = BigInt(bytesToHex(goodFields[11]))

    const cases: [string, Hex, RegExp][] = [
      ['bad RLP: not a list', '0xdeadbeef', /^invalid transaction: rlp: /],
      ['bad RLP: empty typed list', '0x02c0', /^invalid transaction: rlp: expected 12 fields, got 0/],
      ['bad RLP: empty legacy list', '0xc0', /^invalid transaction: rlp: expected 9 fields, got 0/],
      ['bad RLP: truncated', good.slice(0, -20) as Hex, /^invalid transaction: rlp: /],
      ['bad RLP: trailing bytes', `${good}00` as Hex, /^invalid transaction/],
      ['unsupported type', '0x05c0', /^transaction type not supported/],
      ['bad signature: high s', withField(11, word(SECP256K1_N - s)), /^invalid transaction v, r, s values$/],
      ['bad signature: r = 0', withField(10, new Uint8Array(0)), /^invalid transaction v, r, s values$/],
      ['bad signature: r >= n', withField(10, word(SECP256K1_N + 1n)), /^invalid transaction v, r, s values$/],
      ['bad signature: y parity 5', withField(9, Uint8Array.of(5)), /^invalid transaction v, r, s values$/],
      ['wrong chain id', await signed1559({ nonce, chainId: 1n }, alice.key), /^invalid chain id: have 1 want 1337$/],
      ['nonce too low', await signed1559({ nonce: 0n, value: 2n }, alice.key), /^nonce too low: next nonce 1, tx nonce 0$/],
      ['nonce far ahead', await signed1559({ nonce: nonce + 1000n }, alice.key), /^nonce too high/],
      ['insufficient funds: zero balance', await signed1559({ nonce: 0n }, poorKey), /^insufficient funds for gas \* price \+ value: balance 0, tx cost \d+/],
      ['insufficient funds: value', await signed1559({ nonce, value: 10n ** 24n }, alice.key), /^insufficient funds for gas \* price \+ value: balance \d+/],
      ['intrinsic gas too low', await signed1559({ nonce, gas: 20_999n }, alice.key), /^intrinsic gas too low: have 20999, want 21000$/],
      ['underpriced: maxFeePerGas 0', await signed1559({ nonce, feeCap: 0n, tip: 0n }, alice.key), /^transaction underpriced: fee cap 0, minimum needed 1$/],
      ['tip above fee cap', await signed1559({ nonce, feeCap: GWEI, tip: 2n * GWEI }, alice.key), /^max priority fee per gas higher than max fee per gas/],
      ['gas above block limit', await signed1559({ nonce, gas: 30_000_001n }, alice.key), /^exceeds block gas limit: gas 30000001, limit 30000000$/],
    ]
    for (const [name, raw, message] of cases) {
      await assert.rejects(node.rpc('eth_sendRawTransaction', [raw]), (err: unknown) => {
        assert.ok(err instanceof RpcCallError, `${name}: ${String(err)}`)
        assert.equal(err.code, -32000, `${name}: code of "${err.message}"`)
        assert.match(err.message, message, name)
        return true
      }, name)
    }
    // A signature that recovers to another account spends that account's (empty) balance.
    const otherSigner = withField(11, word(s - 1n))
    await assert.rejects(node.rpc('eth_sendRawTransaction', [otherSigner]), (err: unknown) => {
      assert.ok(err instanceof RpcCallError)
      assert.equal(err.code, -32000)
      assert.match(err.message, /^(insufficient funds|invalid sender)/)
      return true
    })
    assert.deepEqual(await snapshot(), before, 'no block, balance or nonce changed')
    assert.equal(await node.rpc('eth_getTransactionByHash', [keccak256(good)]), null, 'the valid twin was never sent')
  })

  test('already known and replacement underpriced, with automine paused', async () => {
    const before = await snapshot()
    const nonce = BigInt(before.accounts[bob.address].nonce)
    assert.equal(await node.rpc('evm_setAutomine', [false]), true)
    let resumed = false
    try {
      const original = await signed1559({ nonce, value: 7n }, bob.key)
      const hash = await node.rpc<Hex>('eth_sendRawTransaction', [original])
      assert.equal(hash, keccak256(original))
      await assert.rejects(node.rpc('eth_sendRawTransaction', [original]), { code: -32000, message: 'already known' })
      // Same fees (and a bump under 10%) cannot replace it.
      const sameFee = await signed1559({ nonce, value: 8n }, bob.key)
      const smallBump = await signed1559({ nonce, value: 8n, tip: (GWEI * 105n) / 100n, feeCap: (10n * GWEI * 105n) / 100n }, bob.key)
      for (const raw of [sameFee, smallBump]) {
        await assert.rejects(node.rpc('eth_sendRawTransaction', [raw]), { code: -32000, message: 'replacement transaction underpriced' })
      }
      // The pool holds the original, nothing is mined, and the chain state is untouched.
      const pending = await node.rpc<{ hash: Hex; blockNumber: null; value: Hex }>('eth_getTransactionByHash', [hash])
      assert.equal(pending.blockNumber, null)
      assert.equal(pending.value, '0x7')
      assert.equal(await node.rpc('eth_getTransactionByHash', [keccak256(sameFee)]), null)
      const during = await snapshot()
      assert.deepEqual({ ...during, accounts: { ...during.accounts, [bob.address]: before.accounts[bob.address] } }, before)
      assert.equal(during.accounts[bob.address].balance, before.accounts[bob.address].balance)
      assert.equal(during.accounts[bob.address].nonce, before.accounts[bob.address].nonce)
      assert.equal(during.accounts[bob.address].pendingNonce, numberToHex(nonce + 1n))

      assert.equal(await node.rpc('evm_setAutomine', [true]), true)
      resumed = true
      const receipt = await waitFor('the original to be mined', () => node.rpc('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined))
      assert.equal(receipt.status, '0x1')
      assert.equal(await node.rpc('eth_getTransactionByHash', [keccak256(sameFee)]), null)
      assert.equal(await node.rpc('eth_getTransactionCount', [bob.address, 'latest']), numberToHex(nonce + 1n))
    } finally {
      if (!resumed) await node.rpc('evm_setAutomine', [true])
    }
  })

  test('after all that the node is up, answers, mines, and logged no internal error', async () => {
    assert.equal(node.exitInfo, undefined, 'the node process is still running')
    assert.equal(await node.rpc('eth_chainId'), '0x539')
    const before = await node.rpc<Hex>('eth_blockNumber')
    const nonce = BigInt(await node.rpc<Hex>('eth_getTransactionCount', [alice.address, 'latest']))
    const hash = await node.rpc<Hex>('eth_sendRawTransaction', [await signed1559({ nonce, value: 3n }, alice.key)])
    const receipt = await waitFor('a valid transfer to be mined', () => node.rpc('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined))
    assert.equal(receipt.status, '0x1')
    assert.ok(BigInt(receipt.blockNumber) > BigInt(before))
    const internal = node.logLines().filter((l) => (l.level as number) >= 50)
    assert.deepEqual(internal, [], 'no error-level log lines (no -32603 internal errors)')
  })
})

/**
 * Sends only the headers of a POST that declares a `declaredBytes` body, and reads the answer.
 * The server refuses on the declared length, before reading any body. (A client that pushes
 * the whole oversized body at once may lose the 413: the server closes the connection as soon
 * as it has answered, and the client's write then fails with EPIPE.)
 */
function postDeclaringOversizedBody(url: string, declaredBytes: number): Promise<{ status: number; json: any }> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method: 'POST', path: '/', agent: false, headers: { 'content-type': 'application/json', 'content-length': declaredBytes } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          req.destroy()
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.flushHeaders()
  })
}
