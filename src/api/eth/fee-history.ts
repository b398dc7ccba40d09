/**
 * eth_feeHistory over any view of a chain: the full node's store, or a light client's verified
 * headers (whose blocks and receipts are fetched and checked only when reward percentiles are
 * asked for). geth's answer: base fees (one more than the blocks: the next block's), gas used
 * ratios, and effective tips at gas-weighted percentiles.
 * @module
 */
import type { Block, BlockHeader } from '../../chain/block.ts'
import type { Receipt } from '../../execution/index.ts'
import { invalidParams, serverError } from '../rpc/errors.ts'
import { parseBlockNumberOrTag, parseQuantity, toQuantity, type BlockNumberOrTag } from '../rpc/params.ts'
import { effectiveGasPrice } from './format.ts'

export interface FeeHistoryView {
  /** Blocks one answer covers at most (a larger blockCount is cut, as geth does). */
  maxBlocks: bigint
  newest(ref: BlockNumberOrTag): BlockHeader | undefined
  headerAt(height: bigint): BlockHeader | undefined
  blockAt(height: bigint): Promise<{ block: Block; receipts: Receipt[] }>
  headHeight(): bigint
  /** The lowest height this view knows (a light client's checkpoint). */
  oldestHeight(): bigint
  nextBaseFee(): bigint
}

export async function feeHistory(v: FeeHistoryView, params: unknown[]) {
  let count = parseQuantity(params[0], 'blockCount')
  if (count < 1n) throw invalidParams('invalid blockCount: must be at least 1')
  if (count > v.maxBlocks) count = v.maxBlocks
  const newest = v.newest(parseBlockNumberOrTag(params[1], 'newestBlock'))
  if (!newest) throw serverError('newestBlock not found')
  let percentiles: number[] = []
  if (params[2] !== undefined && params[2] !== null) {
    if (!Array.isArray(params[2]) || params[2].length > 100) throw invalidParams('invalid rewardPercentiles: expected up to 100 numbers')
    percentiles = params[2].map((p, i) => {
      if (typeof p !== 'number' || !(p >= 0 && p <= 100)) throw invalidParams(`invalid rewardPercentiles[${i}]: expected a number in [0, 100]`)
      if (i > 0 && p < (params[2] as number[])[i - 1]) throw invalidParams('invalid rewardPercentiles: must be ascending')
      return p
    })
  }
  const last = newest.height
  const floor = v.oldestHeight()
  const first = last - count + 1n < floor ? floor : last - count + 1n
  const baseFees: string[] = []
  const ratios: number[] = []
  const rewards: string[][] = []
  for (let h = first; h <= last; h++) {
    const header = v.headerAt(h)
    if (!header) throw serverError(`block ${h} not found`)
    baseFees.push(toQuantity(header.baseFee))
    ratios.push(header.gasLimit === 0n ? 0 : Number(header.gasUsed) / Number(header.gasLimit))
    if (percentiles.length > 0) {
      const { block, receipts } = await v.blockAt(h)
      rewards.push(rewardPercentiles(block, receipts, percentiles))
    }
  }
  const nextHeader = last === v.headHeight() ? undefined : v.headerAt(last + 1n)
  baseFees.push(toQuantity(nextHeader ? nextHeader.baseFee : v.nextBaseFee()))
  return {
    oldestBlock: toQuantity(first),
    baseFeePerGas: baseFees,
    gasUsedRatio: ratios,
    ...(percentiles.length > 0 ? { reward: rewards } : {}),
  }
}

/** Effective tips at gas-weighted percentiles, as geth computes them. */
function rewardPercentiles(block: Block, receipts: Receipt[], percentiles: number[]): string[] {
  if (block.txs.length === 0) return percentiles.map(() => '0x0')
  const items = block.txs
    .map((tx, i) => ({
      tip: effectiveGasPrice(tx, block.header.baseFee) - block.header.baseFee,
      gas: receipts[i].cumulativeGasUsed - (i === 0 ? 0n : receipts[i - 1].cumulativeGasUsed),
    }))
    .sort((x, y) => (x.tip < y.tip ? -1 : x.tip > y.tip ? 1 : 0))
  const total = block.header.gasUsed
  return percentiles.map((p) => {
    const threshold = (total * BigInt(Math.round(p * 100))) / 10_000n
    let sum = 0n
    for (const it of items) {
      sum += it.gas
      if (sum >= threshold) return toQuantity(it.tip)
    }
    return toQuantity(items[items.length - 1].tip)
  })
}
