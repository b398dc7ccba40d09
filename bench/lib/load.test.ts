/**
 * runLoad against a fake JSON-RPC node on a real socket: it rejects nonce gaps like
 * Hardhat's automine, mines pending txs in batches on a timer (so receipts must be
 * re-polled after new blocks), and counts requests in flight.
 */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { keccak256, toHex, type Hex } from 'viem'
import { BenchError } from './errors.ts'
import { runLoad } from './load.ts'
import type { TransferPlan, Transfer } from './plan.ts'
import { RpcClient } from './rpc.ts'

function fakePlan(senders: number, perSender: number): TransferPlan {
  const plan: TransferPlan = { senders: [], total: senders * perSender, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }
  for (let s = 0; s < senders; s++) {
    const from = toHex(s + 1, { size: 20 })
    const txs: Transfer[] = []
    for (let n = 0; n < perSender; n++) {
      const raw = toHex(`tx-${s}-${n}`)
      txs.push({ from, nonce: n, to: toHex(1000 + s * perSender + n, { size: 20 }), value: 1n, raw, hash: keccak256(raw) })
    }
    plan.senders.push({ address: from, startNonce: 0, txs })
  }
  return plan
}

interface FakeNode {
  url: string
  maxInFlight: number
  maxInFlightSendsPerSender: number
  receiptPolls: number
  close(): Promise<void>
}

async function startFakeNode(plan: TransferPlan, opts: { blockMs: number; stuckHash?: Hex }): Promise<FakeNode> {
  const byRaw = new Map<string, Transfer>()
  for (const s of plan.senders) for (const tx of s.txs) byRaw.set(tx.raw, tx)
  const nextNonce = new Map<string, number>()
  const sendsInFlight = new Map<string, number>()
  const pending: Transfer[] = []
  const mined = new Map<string, { block: number; tx: Transfer }>()
  let block = 0
  let inFlight = 0
  const state = { maxInFlight: 0, maxInFlightSendsPerSender: 0, receiptPolls: 0 }

  const timer = setInterval(() => {
    if (pending.length === 0) return
    block++
    for (const tx of pending.splice(0)) if (tx.hash !== opts.stuckHash) mined.set(tx.hash, { block, tx })
  }, opts.blockMs)

  const handle = async (method: string, params: unknown[]): Promise<unknown> => {
    // Answer asynchronously so concurrent requests really overlap.
    await new Promise((r) => setImmediate(r))
    switch (method) {
      case 'eth_sendRawTransaction': {
        const tx = byRaw.get(params[0] as string)
        if (!tx) throw { code: -32602, message: 'unknown raw tx' }
        const inflight = (sendsInFlight.get(tx.from) ?? 0) + 1
        sendsInFlight.set(tx.from, inflight)
        state.maxInFlightSendsPerSender = Math.max(state.maxInFlightSendsPerSender, inflight)
        await new Promise((r) => setTimeout(r, 1))
        sendsInFlight.set(tx.from, inflight - 1)
        const want = nextNonce.get(tx.from) ?? 0
        if (tx.nonce !== want) throw { code: -32000, message: `Nonce too high. Expected nonce to be ${want} but got ${tx.nonce}` }
        nextNonce.set(tx.from, want + 1)
        pending.push(tx)
        return tx.hash
      }
      case 'eth_getTransactionReceipt': {
        state.receiptPolls++
        const m = mined.get(params[0] as string)
        return m ? { transactionHash: m.tx.hash, status: '0x1', blockNumber: toHex(m.block), from: m.tx.from, to: m.tx.to } : null
      }
      case 'eth_blockNumber':
        return toHex(block)
      default:
        throw { code: -32601, message: `no method ${method}` }
    }
  }

  const server = http.createServer((req, res) => {
    inFlight++
    state.maxInFlight = Math.max(state.maxInFlight, inFlight)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { id: number; method: string; params: unknown[] }
      handle(body.method, body.params).then(
        (result) => {
          inFlight--
          res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result }))
        },
        (error: unknown) => {
          inFlight--
          res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, error }))
        },
      )
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    get maxInFlight() {
      return state.maxInFlight
    },
    get maxInFlightSendsPerSender() {
      return state.maxInFlightSendsPerSender
    },
    get receiptPolls() {
      return state.receiptPolls
    },
    async close() {
      clearInterval(timer)
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

describe('runLoad', () => {
  test('gets every receipt from a batching node, in nonce order, within the concurrency limit', async () => {
    const plan = fakePlan(5, 40)
    const node = await startFakeNode(plan, { blockMs: 15 })
    const rpc = new RpcClient(node.url, { maxSockets: 12 })
    try {
      const seen: number[] = []
      const atLastReceipt: number[] = []
      const result = await runLoad(rpc, plan, {
        concurrency: 8,
        progressMs: 5,
        onProgress: (p) => seen.push(p.mined),
        onLastReceipt: () => atLastReceipt.push(seen.length),
      })
      assert.equal(result.receipts.size, 200)
      assert.equal(atLastReceipt.length, 1, 'onLastReceipt is called exactly once')
      for (const s of plan.senders) for (const tx of s.txs) assert.equal(result.receipts.get(tx.hash)?.status, '0x1')
      assert.equal(result.requests.sends, 200)
      assert.ok(node.maxInFlight <= 8, `at most 8 requests in flight, saw ${node.maxInFlight}`)
      assert.equal(node.maxInFlightSendsPerSender, 1)
      // Batched mining means some receipts were not there at first and were re-polled
      // after a block, not in a tight loop.
      assert.ok(result.requests.blockPolls > 0)
      assert.ok(node.receiptPolls < 200 * 4, `receipt polls ${node.receiptPolls}`)
      assert.ok(result.seconds > 0)
      assert.equal(seen.at(-1), 200)
    } finally {
      rpc.close()
      await node.close()
    }
  })

  test('reports STALLED when a transaction never gets a receipt', async () => {
    const plan = fakePlan(2, 3)
    const node = await startFakeNode(plan, { blockMs: 5, stuckHash: plan.senders[1]!.txs[2]!.hash })
    const rpc = new RpcClient(node.url)
    try {
      await assert.rejects(runLoad(rpc, plan, { concurrency: 4, stallTimeoutMs: 300, progressMs: 20 }), (err: unknown) => {
        assert.ok(err instanceof BenchError)
        assert.equal(err.code, 'STALLED')
        assert.match(err.message, /mined 5\/6/)
        return true
      })
    } finally {
      rpc.close()
      await node.close()
    }
  })

  test('fails with the node error when a send is rejected', async () => {
    const plan = fakePlan(1, 2)
    const node = await startFakeNode(plan, { blockMs: 5 })
    plan.senders[0]!.txs[1] = { ...plan.senders[0]!.txs[1]!, raw: '0xdead' } // unknown to the node
    const rpc = new RpcClient(node.url)
    try {
      await assert.rejects(runLoad(rpc, plan, { concurrency: 2 }), (err: unknown) => {
        assert.ok(err instanceof BenchError)
        assert.equal(err.code, 'RPC_ERROR')
        assert.match(err.message, /sending tx 1 of .*unknown raw tx/)
        return true
      })
    } finally {
      rpc.close()
      await node.close()
    }
  })
})
