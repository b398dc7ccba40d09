import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RpcClient, RpcClientError, quantity } from '../../../src/cli/rpc-client.ts'
import { fetchStatus, formatAge, formatStatus } from '../../../src/cli/commands/status.ts'
import { planFees } from '../../../src/cli/commands/send.ts'

type Handler = (method: string, params: unknown[]) => { result?: unknown; error?: unknown; raw?: string; status?: number; hang?: boolean }

/** A stand-in node whose answers each test scripts. */
async function fakeNode(handler: Handler): Promise<{ url: string; server: Server; calls: string[] }> {
  const calls: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const { id, method, params } = JSON.parse(body)
      calls.push(method)
      const out = handler(method, params)
      if (out.hang) return
      res.writeHead(out.status ?? 200, { 'content-type': 'application/json' })
      if (out.raw !== undefined) res.end(out.raw)
      else res.end(JSON.stringify({ jsonrpc: '2.0', id, ...('error' in out ? { error: out.error } : { result: out.result }) }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls }
}

const closeServer = (s: Server) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()) })
const hasCode = (code: string) => (e: unknown) => e instanceof RpcClientError && e.code === code && !e.message.includes('\n')

describe('RpcClient', () => {
  test('connection refused: NODE_UNREACHABLE with "is it running?"', async () => {
    // Bind then close a port so nothing listens there.
    const s = createServer()
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    const port = (s.address() as AddressInfo).port
    await closeServer(s)
    const url = `http://127.0.0.1:${port}`
    await assert.rejects(new RpcClient(url).call('eth_chainId'), (e: unknown) => {
      assert.ok(hasCode('NODE_UNREACHABLE')(e))
      assert.match((e as Error).message, new RegExp(`^cannot reach node at ${url}: is it running\\? \\(ECONNREFUSED\\)$`))
      return true
    })
  })

  test('results, JSON-RPC errors (message kept verbatim), and non-JSON-RPC answers', async () => {
    const node = await fakeNode((method) => {
      if (method === 'ok') return { result: '0x1' }
      if (method === 'nullResult') return { result: null }
      if (method === 'fail') return { error: { code: -32000, message: 'insufficient funds for gas * price + value', data: '0xab' } }
      if (method === 'html') return { raw: '<html>nope</html>', status: 404 }
      if (method === 'empty') return { raw: '{"jsonrpc":"2.0","id":1}' }
      if (method === 'hang') return { hang: true }
      return { raw: '[1,2]' }
    })
    try {
      const rpc = new RpcClient(node.url, { timeoutMs: 300 })
      assert.equal(await rpc.call('ok'), '0x1')
      assert.equal(await rpc.call('nullResult'), null)
      await assert.rejects(rpc.call('fail'), (e: unknown) => {
        assert.ok(hasCode('RPC_ERROR')(e))
        const err = e as RpcClientError
        assert.equal(err.rpcCode, -32000)
        assert.equal(err.rpcMessage, 'insufficient funds for gas * price + value')
        assert.equal(err.data, '0xab')
        assert.equal(err.message, 'fail: insufficient funds for gas * price + value')
        return true
      })
      await assert.rejects(rpc.call('html'), (e: unknown) => hasCode('BAD_RESPONSE')(e) && /HTTP 404/.test((e as Error).message))
      await assert.rejects(rpc.call('empty'), hasCode('BAD_RESPONSE'))
      await assert.rejects(rpc.call('array'), hasCode('BAD_RESPONSE'))
      await assert.rejects(rpc.call('hang'), hasCode('RPC_TIMEOUT'))
    } finally {
      await closeServer(node.server)
    }
  })

  test('quantity checks hex quantities', () => {
    assert.equal(quantity('0x0', 'm', 'x'), 0n)
    assert.equal(quantity('0x539', 'm', 'x'), 1337n)
    for (const bad of ['0x', '539', 12, null, '0xzz']) assert.throws(() => quantity(bad, 'm', 'x'), hasCode('BAD_RESPONSE'))
  })
})

describe('status', () => {
  test('formatAge keeps the two largest units', () => {
    assert.equal(formatAge(0), '0s')
    assert.equal(formatAge(42), '42s')
    assert.equal(formatAge(65), '1m 5s')
    assert.equal(formatAge(3600), '1h 0m')
    assert.equal(formatAge(86400 * 3 + 3600 * 5 + 7), '3d 5h')
    assert.equal(formatAge(-5), '5s in the future')
  })

  test('fetchStatus reads every field; methods the node lacks show as unknown', async () => {
    const node = await fakeNode((method) => {
      switch (method) {
        case 'web3_clientVersion': return { result: 'Fake/v1' }
        case 'eth_chainId': return { result: '0x539' }
        case 'eth_getBlockByNumber': return { result: { number: '0x2a', hash: '0x' + 'ab'.repeat(32), timestamp: '0x6553f100' } }
        case 'eth_gasPrice': return { result: '0x6fc23ac0' }
        case 'eth_syncing': return { result: { currentBlock: '0x2a', highestBlock: '0x64' } }
        default: return { error: { code: -32601, message: `the method ${method} does not exist` } }
      }
    })
    try {
      const s = await fetchStatus(new RpcClient(node.url), () => (1_700_000_000 + 65) * 1000)
      assert.deepEqual(s, {
        rpcUrl: node.url,
        clientVersion: 'Fake/v1',
        chainId: 1337,
        head: { number: 42, hash: '0x' + 'ab'.repeat(32), timestamp: 1_700_000_000, time: '2023-11-14T22:13:20Z' },
        headAgeSeconds: 65,
        peerCount: null,
        gasPrice: '1875000000',
        syncing: { currentBlock: '0x2a', highestBlock: '0x64' },
      })
      const text = formatStatus(s)
      assert.match(text, /^chain id +1337$/m)
      assert.match(text, /^head +#42 0xabab/m)
      assert.match(text, /^head time +2023-11-14T22:13:20Z \(1m 5s ago\)$/m)
      assert.match(text, /^peers +unknown$/m)
      assert.match(text, /^gas price +1\.875 gwei$/m)
      assert.match(text, /^syncing +yes \(block 42 of 100\)$/m)
    } finally {
      await closeServer(node.server)
    }
  })
})

describe('planFees', () => {
  const base = 1_000_000_000n
  const nodeWith = (extra: Record<string, unknown> = {}) =>
    fakeNode((method) => {
      if (method in extra) return extra[method] as ReturnType<Handler>
      if (method === 'eth_feeHistory') return { result: { oldestBlock: '0x0', baseFeePerGas: ['0x1', `0x${base.toString(16)}`], gasUsedRatio: [0] } }
      if (method === 'eth_maxPriorityFeePerGas') return { result: '0x3b9aca00' }
      if (method === 'eth_gasPrice') return { result: '0x77359400' }
      return { error: { code: -32601, message: 'no such method' } }
    })

  test('default: tip from the node, cap = 2 x next base fee + tip', async () => {
    const node = await nodeWith()
    try {
      assert.deepEqual(await planFees(new RpcClient(node.url)), { maxFeePerGas: 3n * base, maxPriorityFeePerGas: base })
    } finally {
      await closeServer(node.server)
    }
  })

  test('overrides win; a cap below the tip is refused; a user cap bounds the suggested tip', async () => {
    const node = await nodeWith()
    try {
      const rpc = new RpcClient(node.url)
      assert.deepEqual(await planFees(rpc, { maxFeePerGas: 5n, maxPriorityFeePerGas: 2n }), { maxFeePerGas: 5n, maxPriorityFeePerGas: 2n })
      await assert.rejects(planFees(rpc, { maxFeePerGas: 1n, maxPriorityFeePerGas: 2n }), (e: Error & { code?: string }) => e.code === 'BAD_FEES')
      assert.deepEqual(await planFees(rpc, { maxFeePerGas: 10n }), { maxFeePerGas: 10n, maxPriorityFeePerGas: 10n })
      assert.deepEqual(await planFees(rpc, { maxPriorityFeePerGas: 7n }), { maxFeePerGas: 2n * base + 7n, maxPriorityFeePerGas: 7n })
    } finally {
      await closeServer(node.server)
    }
  })

  test('a node without eth_feeHistory or eth_maxPriorityFeePerGas: latest base fee and gas price', async () => {
    const node = await nodeWith({
      eth_feeHistory: { error: { code: -32601, message: 'no' } },
      eth_maxPriorityFeePerGas: { error: { code: -32601, message: 'no' } },
      eth_getBlockByNumber: { result: { baseFeePerGas: `0x${base.toString(16)}` } },
    })
    try {
      // gas price 2 gwei - base fee 1 gwei = 1 gwei tip
      assert.deepEqual(await planFees(new RpcClient(node.url)), { maxFeePerGas: 3n * base, maxPriorityFeePerGas: base })
    } finally {
      await closeServer(node.server)
    }
  })
})
