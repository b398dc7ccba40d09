/** buildPlans against a small JSON-RPC server that answers the chain-state reads a plan needs. */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseTransaction, recoverTransactionAddress, toHex } from 'viem'
import { TEST_MNEMONIC } from '../../src/wallet/hd.ts'
import { BenchError } from './errors.ts'
import { buildPlans, type PlanOptions, type TransferPlan } from './plan.ts'
import { RpcClient } from './rpc.ts'

/** Every account already sent `nonce` txs and holds `balance` wei. */
async function withChain<T>(state: { nonce: number; balance: bigint }, fn: (rpc: RpcClient) => Promise<T>): Promise<T> {
  const answers: Record<string, unknown> = {
    eth_gasPrice: toHex(1_000_000_000n),
    eth_maxPriorityFeePerGas: toHex(1_000_000_000n),
    eth_getBlockByNumber: { baseFeePerGas: toHex(875_000_000n) },
    eth_getTransactionCount: toHex(state.nonce),
    eth_getBalance: toHex(state.balance),
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const { id, method } = JSON.parse(Buffer.concat(chunks).toString()) as { id: number; method: string }
      const result = answers[method]
      res.end(JSON.stringify(result === undefined ? { jsonrpc: '2.0', id, error: { code: -32601, message: method } } : { jsonrpc: '2.0', id, result }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const rpc = new RpcClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  try {
    return await fn(rpc)
  } finally {
    rpc.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  }
}

const options = (o: Partial<PlanOptions>): PlanOptions => ({
  mnemonic: TEST_MNEMONIC,
  chainId: 1337,
  txs: 10,
  warmup: 5,
  senders: 3,
  recipients: 0,
  concurrency: 4,
  ...o,
})

const recipientsOf = (p: TransferPlan): Set<string> => new Set(p.senders.flatMap((s) => s.txs.map((t) => t.to)))

describe('buildPlans', () => {
  test('warm-up takes the first nonces and the timed transfers continue after them', async () => {
    const { warmup, timed } = await withChain({ nonce: 7, balance: 10n ** 21n }, (rpc) => buildPlans(rpc, options({})))
    assert.equal(warmup.total, 5)
    assert.equal(timed.total, 10)
    assert.deepEqual(warmup.senders.map((s) => s.txs.length), [2, 2, 1])
    assert.deepEqual(timed.senders.map((s) => s.txs.length), [4, 3, 3])
    for (let s = 0; s < 3; s++) {
      const w = warmup.senders[s]!
      const t = timed.senders[s]!
      assert.equal(w.address, t.address)
      assert.equal(w.startNonce, 7)
      // verify.ts expects the final nonce to be timed.startNonce + timed txs.
      assert.equal(t.startNonce, 7 + w.txs.length)
      const all = [...w.txs, ...t.txs]
      assert.deepEqual(all.map((x) => x.nonce), all.map((_, k) => 7 + k))
      for (const x of all) {
        assert.equal(parseTransaction(x.raw).nonce, x.nonce, 'the signed nonce is the planned one')
        assert.equal(await recoverTransactionAddress({ serializedTransaction: x.raw as `0x02${string}` }), x.from)
      }
    }
    const values = [...warmup.senders, ...timed.senders].flatMap((s) => s.txs.map((x) => x.value))
    assert.equal(new Set(values).size, 15, 'every transfer has its own value')
  })

  test('warm-up recipients are never timed recipients, also when recipients are shared', async () => {
    for (const recipients of [0, 2]) {
      const { warmup, timed } = await withChain({ nonce: 0, balance: 10n ** 21n }, (rpc) => buildPlans(rpc, options({ recipients })))
      const w = recipientsOf(warmup)
      const t = recipientsOf(timed)
      assert.equal(t.size, recipients || 10)
      assert.equal(w.size, recipients || 5)
      for (const a of w) assert.ok(!t.has(a), `${a} is in both`)
    }
  })

  test('no warm-up: an empty warm-up plan and the timed one from the current nonce', async () => {
    const { warmup, timed } = await withChain({ nonce: 2, balance: 10n ** 21n }, (rpc) => buildPlans(rpc, options({ warmup: 0 })))
    assert.equal(warmup.total, 0)
    assert.ok(warmup.senders.every((s) => s.txs.length === 0))
    assert.ok(timed.senders.every((s) => s.startNonce === 2))
  })

  test('a sender that cannot pay for warm-up and timed transfers fails before anything is sent', async () => {
    // maxFeePerGas = 2 x (0.875 + 1) gwei; each sender can pay for 5 transfers: 3 fit, the first sender's 2 + 4 do not.
    const perTx = 21_000n * 3_750_000_000n + 1_000_000_000_100n
    await withChain({ nonce: 0, balance: perTx * 5n }, async (rpc) => {
      await buildPlans(rpc, options({ warmup: 0, txs: 9 })) // 3 each: fits
      await assert.rejects(buildPlans(rpc, options({})), (e: unknown) => {
        assert.ok(e instanceof BenchError)
        assert.equal(e.code, 'INSUFFICIENT_FUNDS')
        assert.match(e.message, /2 warm-up and 4 timed transfers/)
        return true
      })
    })
  })
})
