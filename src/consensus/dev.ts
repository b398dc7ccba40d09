/**
 * The `dev` engine: one node seals blocks on demand, like Hardhat's or Anvil's local chain.
 * Automine seals as soon as txs are pending (txs that arrive while a block is being sealed
 * go into the next one, so a burst of concurrent txs shares blocks); interval mining seals
 * every `intervalMs` even when empty. Adds evm_mine, hardhat_mine, evm_increaseTime,
 * evm_setNextBlockTimestamp, evm_setAutomine and evm_setIntervalMining to the RPC.
 */
import { bytesToHex } from '@ethereumjs/util'
import { BlockError } from '../chain/errors.ts'
import type { BlockHeader } from '../chain/block.ts'
import { EngineParamsError, type ConsensusEngine, type EngineHost, type EngineRpcMethod } from './types.ts'

export interface DevEngineOptions {
  automine: boolean
  intervalMs: number
  producer: Uint8Array
  /** Wall clock in seconds; injectable for tests. */
  now?: () => bigint
}

/** Hardhat's default coinbase, so tools that special-case it keep working. */
export const DEV_COINBASE = '0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e'

export class DevEngine implements ConsensusEngine {
  readonly type = 'dev'
  readonly producer: Uint8Array
  private host?: EngineHost
  private automine: boolean
  private intervalMs: number
  private timer?: NodeJS.Timeout
  private unsubscribe?: () => void
  private timeOffset = 0n
  private nextTimestamp?: bigint
  /** Serializes block production: automine, interval and RPC calls never overlap. */
  private queue: Promise<unknown> = Promise.resolve()
  private automineScheduled = false
  private stopped = false
  private readonly now: () => bigint

  constructor(opts: DevEngineOptions) {
    this.automine = opts.automine
    this.intervalMs = opts.intervalMs
    this.producer = opts.producer
    this.now = opts.now ?? (() => BigInt(Math.floor(Date.now() / 1000)))
  }

  verifyHeader(header: BlockHeader): void {
    if (header.seal.length !== 0) throw new BlockError('BAD_SEAL', `dev blocks carry no seal (got ${bytesToHex(header.seal)})`)
  }

  async seal(header: BlockHeader): Promise<BlockHeader> {
    return header
  }

  async start(host: EngineHost): Promise<void> {
    this.host = host
    this.unsubscribe = host.onPendingTx(() => this.scheduleAutomine())
    this.setInterval(this.intervalMs)
    if (this.automine && host.pendingTxCount() > 0) this.scheduleAutomine()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.unsubscribe?.()
    if (this.timer) clearInterval(this.timer)
    await this.queue.catch(() => undefined)
  }

  /** Seals one block now; resolves once it is committed. */
  mine(timestamp?: bigint): Promise<unknown> {
    return this.enqueue(() => this.produceOne(timestamp))
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job)
    this.queue = run.catch((err) => this.host?.log.error({ err }, 'block production failed'))
    return run
  }

  private async produceOne(timestamp?: bigint): Promise<unknown> {
    const host = this.requireHost()
    const parent = host.head().header.timestamp
    let ts = timestamp ?? this.nextTimestamp ?? this.now() + this.timeOffset
    this.nextTimestamp = undefined
    if (ts < parent) ts = parent // timestamps never go backwards
    const produced = await host.produce({ timestamp: ts })
    for (const r of produced.rejected) host.log.debug({ tx: bytesToHex(r.tx.hash()), reason: r.reason }, 'tx left out of block')
    return produced
  }

  private scheduleAutomine(): void {
    if (!this.automine || this.automineScheduled || this.stopped) return
    this.automineScheduled = true
    void this.enqueue(async () => {
      this.automineScheduled = false
      const host = this.requireHost()
      // Keep sealing while txs are pending; each block takes everything that fits.
      while (!this.stopped && host.pendingTxCount() > 0) {
        const before = host.head().hash
        await this.produceOne()
        if (host.head().hash === before) break
        const last = await Promise.resolve(host.head())
        if (last.header.gasUsed === 0n) break // nothing could be included: wait for new txs
      }
    })
  }

  private setInterval(ms: number): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.intervalMs = ms
    if (ms > 0) this.timer = setInterval(() => void this.mine().catch(() => undefined), ms)
  }

  private requireHost(): EngineHost {
    if (!this.host) throw new Error('dev engine is not started')
    return this.host
  }

  rpcMethods(): Record<string, EngineRpcMethod> {
    return {
      evm_mine: async (params) => {
        const ts = params[0] === undefined || params[0] === null ? undefined : toSeconds(params[0], 'timestamp')
        await this.mine(ts)
        return '0x0'
      },
      hardhat_mine: async (params) => {
        const count = params[0] === undefined ? 1n : toSeconds(params[0], 'block count')
        const interval = params[1] === undefined ? 1n : toSeconds(params[1], 'interval')
        if (count > 100_000n) throw new EngineParamsError('hardhat_mine: at most 100000 blocks per call')
        for (let i = 0n; i < count; i++) {
          const parent = this.requireHost().head().header.timestamp
          const base = this.now() + this.timeOffset
          await this.mine(i === 0n ? undefined : parent + interval > base ? parent + interval : base)
        }
        return true
      },
      evm_increaseTime: (params) => {
        this.timeOffset += toSeconds(params[0], 'seconds')
        return Number(this.timeOffset)
      },
      evm_setNextBlockTimestamp: (params) => {
        const ts = toSeconds(params[0], 'timestamp')
        const parent = this.requireHost().head().header.timestamp
        if (ts < parent) throw new EngineParamsError(`timestamp ${ts} is before the head's timestamp ${parent}`)
        this.nextTimestamp = ts
        return null
      },
      evm_setAutomine: (params) => {
        if (typeof params[0] !== 'boolean') throw new EngineParamsError('evm_setAutomine expects a boolean')
        this.automine = params[0]
        if (this.automine) this.scheduleAutomine()
        return true
      },
      evm_setIntervalMining: (params) => {
        const ms = Number(toSeconds(params[0], 'interval'))
        this.setInterval(ms)
        return true
      },
    }
  }
}

function toSeconds(v: unknown, name: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v)) return BigInt(v)
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return BigInt(v)
  throw new EngineParamsError(`${name} must be a non-negative integer or hex quantity`)
}
