/**
 * The timed phase: send every pre-signed transfer with eth_sendRawTransaction and wait
 * until each has a receipt, with at most `concurrency` JSON-RPC requests in flight.
 *
 * `concurrency` workers share one queue of work, in this order of preference:
 *   1. check a receipt that is due (a tx just sent, or one whose block may have arrived);
 *   2. send the next tx of a sender that has no send in flight — one per sender at a
 *      time, in nonce order, because automining nodes (Hardhat) reject nonce gaps;
 *   3. poll eth_blockNumber while receipts are parked, so a tx that was not yet mined is
 *      checked again only after a new block, not in a tight loop.
 * The clock runs from the first send to the last receipt observed.
 */
import { BenchError, errorMessage } from './errors.ts'
import type { TransferPlan, Transfer } from './plan.ts'
import { quantity, type RpcClient } from './rpc.ts'

export interface Receipt {
  transactionHash: string
  status?: string
  blockNumber?: string
  from?: string
  to?: string | null
  gasUsed?: string
}

export interface Progress {
  total: number
  sent: number
  mined: number
  elapsedMs: number
}

export interface LoadOptions {
  concurrency: number
  /** Fail when neither a send nor a receipt completes for this long. */
  stallTimeoutMs?: number
  /** Called about every `progressMs` while running, and once at the end. */
  onProgress?: (p: Progress) => void
  progressMs?: number
  /** Called once, synchronously, the moment the last receipt is in (the clock's end), e.g. to sample the node's CPU. */
  onLastReceipt?: () => void
}

export interface LoadResult {
  seconds: number
  receipts: Map<string, Receipt>
  requests: { sends: number; receiptPolls: number; blockPolls: number }
}

/** How often eth_blockNumber is polled while some receipts wait for a block. */
const BLOCK_POLL_MS = 10
/** A parked receipt is re-checked after this long even if no new block was seen. */
const PARKED_RECHECK_MS = 1_000

interface Parked {
  tx: Transfer
  /** Re-check once a block above this one is seen. */
  afterBlock: bigint
  at: number
}

export async function runLoad(rpc: RpcClient, plan: TransferPlan, opts: LoadOptions): Promise<LoadResult> {
  const stallTimeoutMs = opts.stallTimeoutMs ?? 60_000
  const total = plan.total
  const receipts = new Map<string, Receipt>()
  const requests = { sends: 0, receiptPolls: 0, blockPolls: 0 }

  const nextIndex = plan.senders.map(() => 0)
  const readySenders: number[] = plan.senders.flatMap((s, i) => (s.txs.length > 0 ? [i] : []))
  const due: Transfer[] = []
  let parked: Parked[] = []
  let lastBlock = -1n
  let lastBlockPollAt = 0
  let blockPollInFlight = false
  let sent = 0
  let failure: Error | undefined
  let lastProgressAt = performance.now()

  let wakers: Array<() => void> = []
  const wakeAll = (): void => {
    const w = wakers
    wakers = []
    for (const f of w) f()
  }
  const sleepUntilWoken = (ms?: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, ms)
      wakers.push(() => {
        if (timer) clearTimeout(timer)
        resolve()
      })
    })
  const fail = (err: Error): void => {
    failure ??= err
    wakeAll()
  }

  const start = performance.now()
  let end = start

  const send = async (s: number): Promise<void> => {
    const tx = plan.senders[s]!.txs[nextIndex[s]!]!
    requests.sends++
    let hash: unknown
    try {
      hash = await rpc.call('eth_sendRawTransaction', [tx.raw])
    } catch (err) {
      throw new BenchError('RPC_ERROR', `sending tx ${tx.nonce} of ${tx.from}: ${errorMessage(err)}`, { cause: err })
    }
    if (typeof hash !== 'string' || hash.toLowerCase() !== tx.hash) {
      throw new BenchError('VERIFY_FAILED', `eth_sendRawTransaction returned ${JSON.stringify(hash)}, expected ${tx.hash}`)
    }
    sent++
    lastProgressAt = performance.now()
    if (++nextIndex[s]! < plan.senders[s]!.txs.length) readySenders.push(s)
    due.push(tx)
    wakeAll()
  }

  const checkReceipt = async (tx: Transfer): Promise<void> => {
    const blockBefore = lastBlock
    requests.receiptPolls++
    const receipt = await rpc.call<Receipt | null>('eth_getTransactionReceipt', [tx.hash])
    if (receipt) {
      receipts.set(tx.hash, receipt)
      end = lastProgressAt = performance.now()
      if (receipts.size === total) {
        opts.onLastReceipt?.()
        wakeAll()
      }
    } else {
      parked.push({ tx, afterBlock: blockBefore, at: performance.now() })
      wakeAll() // an idle worker may now poll for blocks
    }
  }

  const pollBlock = async (): Promise<void> => {
    blockPollInFlight = true
    lastBlockPollAt = performance.now()
    requests.blockPolls++
    try {
      const n = quantity(await rpc.call('eth_blockNumber'), 'eth_blockNumber')
      if (n > lastBlock) lastBlock = n
    } catch {
      // Without block numbers, the timed re-check below still finds the receipts.
    } finally {
      blockPollInFlight = false
    }
    const now = performance.now()
    const still: Parked[] = []
    for (const p of parked) {
      if (lastBlock > p.afterBlock || now - p.at >= PARKED_RECHECK_MS) due.push(p.tx)
      else still.push(p)
    }
    parked = still
    if (due.length) wakeAll()
  }

  const worker = async (): Promise<void> => {
    while (!failure && receipts.size < total) {
      const tx = due.shift()
      if (tx) {
        await checkReceipt(tx)
        continue
      }
      const s = readySenders.shift()
      if (s !== undefined) {
        await send(s)
        continue
      }
      if (parked.length > 0 && !blockPollInFlight) {
        const wait = lastBlockPollAt + BLOCK_POLL_MS - performance.now()
        if (wait <= 0) {
          await pollBlock()
          continue
        }
        await sleepUntilWoken(wait)
        continue
      }
      await sleepUntilWoken(parked.length > 0 ? BLOCK_POLL_MS : undefined)
    }
    wakeAll() // let the others see the end
  }

  const progress = (): Progress => ({ total, sent, mined: receipts.size, elapsedMs: performance.now() - start })
  const ticker = setInterval(() => {
    opts.onProgress?.(progress())
    if (performance.now() - lastProgressAt > stallTimeoutMs) {
      fail(
        new BenchError(
          'STALLED',
          `no send or receipt completed for ${stallTimeoutMs / 1000} s (sent ${sent}/${total}, mined ${receipts.size}/${total})`,
        ),
      )
    }
  }, opts.progressMs ?? 200)

  try {
    await Promise.all(
      Array.from({ length: opts.concurrency }, () =>
        worker().catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err)))),
      ),
    )
  } finally {
    clearInterval(ticker)
  }
  opts.onProgress?.({ ...progress(), elapsedMs: end - start })
  if (failure) throw failure
  return { seconds: (end - start) / 1000, receipts, requests }
}
