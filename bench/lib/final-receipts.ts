/**
 * Receipts against finality, for chains where a block can be orphaned before it is final
 * (PoH): a tx counts only once its receipt names a block at or below the finalized height that
 * is the canonical block at its height.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { BenchError } from './errors.ts'
import type { BatchRpc, TxOutcome } from './bft-load.ts'

interface ReceiptFields {
  blockHash?: unknown
  blockNumber?: unknown
  status?: unknown
}

const CHUNK = 200

/** Receipts of `hashes` (null where the node has none), in order, in batches of 200. */
async function receipts(rpc: BatchRpc, hashes: readonly string[]): Promise<Array<ReceiptFields | null>> {
  const out: Array<ReceiptFields | null> = []
  for (let i = 0; i < hashes.length; i += CHUNK) {
    const chunk = hashes.slice(i, i + CHUNK)
    const answers = await rpc.batch(chunk.map((h) => ({ method: 'eth_getTransactionReceipt', params: [h] })))
    answers.forEach((a, k) => {
      if (a.error) throw new BenchError('RPC_ERROR', `eth_getTransactionReceipt ${chunk[k]}: ${a.error.message}`)
      out.push((a.result as ReceiptFields | null) ?? null)
    })
  }
  return out
}

/** Hashes of the canonical blocks at `heights` and the finalized height (read first), from one node. */
async function canonical(rpc: BatchRpc, heights: readonly number[]): Promise<{ finalized: number; hashAt: Map<number, string> }> {
  const [fin] = await rpc.batch([{ method: 'eth_getBlockByNumber', params: ['finalized', false] }])
  const number = (fin?.result as { number?: unknown } | null | undefined)?.number
  if (typeof number !== 'string') throw new BenchError('RPC_TRANSPORT', `eth_getBlockByNumber("finalized"): ${JSON.stringify(fin)?.slice(0, 200)}`)
  const hashAt = new Map<number, string>()
  for (let i = 0; i < heights.length; i += CHUNK) {
    const chunk = heights.slice(i, i + CHUNK)
    const answers = await rpc.batch(chunk.map((h) => ({ method: 'eth_getBlockByNumber', params: [`0x${h.toString(16)}`, false] })))
    answers.forEach((a, k) => {
      const hash = (a.result as { hash?: unknown } | null | undefined)?.hash
      if (typeof hash === 'string') hashAt.set(chunk[k]!, hash.toLowerCase())
    })
  }
  return { finalized: Number(BigInt(number)), hashAt }
}

/**
 * Waits until every tx has a successful receipt in a final canonical block (the funding of the
 * senders, so no sender's money can be orphaned while it sends). Throws STALLED after `timeoutMs`.
 */
export async function waitTxsFinal(rpc: BatchRpc, hashes: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let why = ''
  for (;;) {
    const rs = await receipts(rpc, hashes)
    const failed = rs.findIndex((r) => r !== null && r.status !== '0x1')
    if (failed >= 0) throw new BenchError('RPC_ERROR', `tx ${hashes[failed]} failed (status ${String(rs[failed]!.status)})`)
    const missing = rs.filter((r) => r === null).length
    if (missing === 0) {
      const heights = [...new Set(rs.map((r) => Number(BigInt(String(r!.blockNumber)))))]
      const { finalized, hashAt } = await canonical(rpc, heights)
      const pending = rs.filter((r) => Number(BigInt(String(r!.blockNumber))) > finalized || hashAt.get(Number(BigInt(String(r!.blockNumber)))) !== String(r!.blockHash).toLowerCase()).length
      if (pending === 0) return
      why = `${pending} not in a final canonical block (finalized height ${finalized})`
    } else {
      why = `${missing} without a receipt`
    }
    if (Date.now() > deadline) throw new BenchError('STALLED', `of ${hashes.length} txs, ${why} after ${timeoutMs / 1000} s`)
    await delay(250)
  }
}

export interface ReceiptCheck {
  checked: number
  /** Final txs whose receipt does not name the block the follower saw final, or failed. */
  mismatches: Array<{ hash: string; reason: string }>
}

/**
 * Checks every tx the follower saw final: its receipt on `rpc` must have status 0x1 and name the
 * block the follower saw final (by hash), and that block must be the canonical one at its height,
 * at or below the node's finalized height.
 */
export async function checkFinalReceipts(rpc: BatchRpc, outcomes: readonly TxOutcome[]): Promise<ReceiptCheck> {
  const finals = outcomes.filter((t) => t.finalAt !== undefined && t.finalHash !== undefined)
  const rs = await receipts(rpc, finals.map((t) => t.hash))
  const { finalized, hashAt } = await canonical(rpc, [...new Set(finals.map((t) => t.finalHeight!))])
  const mismatches: ReceiptCheck['mismatches'] = []
  finals.forEach((t, i) => {
    const r = rs[i]
    const blockHash = typeof r?.blockHash === 'string' ? r.blockHash.toLowerCase() : undefined
    let reason: string | undefined
    if (!r) reason = 'seen final, but the node has no receipt'
    else if (r.status !== '0x1') reason = `seen final, but its receipt has status ${String(r.status)}`
    else if (blockHash !== t.finalHash) reason = `seen final in ${t.finalHash}, but its receipt names block ${String(r.blockHash)}`
    else if (t.finalHeight! > finalized) reason = `its block ${t.finalHeight} is above the node's finalized height ${finalized}`
    else if (hashAt.get(t.finalHeight!) !== t.finalHash) reason = `its block ${t.finalHash} is not the canonical block at height ${t.finalHeight}`
    if (reason) mismatches.push({ hash: t.hash, reason })
  })
  return { checked: finals.length, mismatches }
}
