/**
 * After the timed phase: prove every transfer happened exactly once. Each receipt has
 * status 0x1 and the right sender and recipient; each recipient's balance equals what
 * was sent to it; each sender's nonce advanced by exactly its number of transfers.
 */
import { BenchError } from './errors.ts'
import type { Receipt } from './load.ts'
import type { TransferPlan } from './plan.ts'
import { mapConcurrent } from './pool.ts'
import { quantity, type RpcClient } from './rpc.ts'

export interface VerifyReport {
  receipts: number
  recipients: number
  senders: number
  blocks: number
}

const MAX_LISTED = 5

export async function verifyTransfers(
  rpc: RpcClient,
  plan: TransferPlan,
  receipts: ReadonlyMap<string, Receipt>,
  concurrency: number,
): Promise<VerifyReport> {
  const problems: string[] = []
  const blocks = new Set<string>()
  const expected = new Map<string, bigint>() // recipient -> sum sent to it

  for (const sender of plan.senders) {
    for (const tx of sender.txs) {
      expected.set(tx.to, (expected.get(tx.to) ?? 0n) + tx.value)
      const r = receipts.get(tx.hash)
      if (!r) {
        problems.push(`no receipt for ${tx.hash}`)
        continue
      }
      if (r.blockNumber) blocks.add(r.blockNumber)
      if (r.status !== '0x1') problems.push(`receipt of ${tx.hash} has status ${r.status}`)
      if (r.from !== undefined && r.from.toLowerCase() !== tx.from.toLowerCase()) {
        problems.push(`receipt of ${tx.hash} is from ${r.from}, expected ${tx.from}`)
      }
      if (r.to !== undefined && (r.to ?? '').toLowerCase() !== tx.to.toLowerCase()) {
        problems.push(`receipt of ${tx.hash} is to ${r.to}, expected ${tx.to}`)
      }
    }
  }

  const recipients = [...expected.entries()]
  const balances = await mapConcurrent(recipients, concurrency, ([addr]) =>
    rpc.call('eth_getBalance', [addr, 'latest']).then((v) => quantity(v, `eth_getBalance(${addr})`)),
  )
  recipients.forEach(([addr, want], i) => {
    if (balances[i] !== want) problems.push(`recipient ${addr} has ${balances[i]} wei, expected ${want}`)
  })

  const nonces = await mapConcurrent(plan.senders, concurrency, (s) =>
    rpc.call('eth_getTransactionCount', [s.address, 'latest']).then((v) => Number(quantity(v, 'eth_getTransactionCount'))),
  )
  plan.senders.forEach((s, i) => {
    const want = s.startNonce + s.txs.length
    if (nonces[i] !== want) problems.push(`sender ${s.address} nonce is ${nonces[i]}, expected ${want} (${s.startNonce} + ${s.txs.length})`)
  })

  if (problems.length > 0) {
    const more = problems.length > MAX_LISTED ? `\n  ... and ${problems.length - MAX_LISTED} more` : ''
    throw new BenchError(
      'VERIFY_FAILED',
      `${problems.length} verification problem(s):\n  ${problems.slice(0, MAX_LISTED).join('\n  ')}${more}`,
    )
  }
  return { receipts: receipts.size, recipients: recipients.length, senders: plan.senders.length, blocks: blocks.size }
}
