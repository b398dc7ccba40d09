/**
 * The `dev` engine: one node seals blocks on demand, like Hardhat's or Anvil's local chain.
 * Automine seals as soon as txs are pending (txs that arrive while a block is being sealed
 * go into the next one, so a burst of concurrent txs shares blocks); interval mining seals
 * every `intervalMs` even when empty. Adds evm_mine, hardhat_mine, evm_increaseTime,
 * evm_setNextBlockTimestamp, evm_setAutomine and evm_setIntervalMining to the RPC.
 * When the chain spec names a signer, every block this engine makes is signed (dev-seal.ts).
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { BlockHeader } from '../chain/block.ts'
import type { BlockRules, Produced } from '../chain/import.ts'
import { privateKeyToAddress } from '../crypto/secp256k1.ts'
import { devRules, signDevHeader } from './dev-seal.ts'
import { EngineParamsError, type ConsensusEngine, type EngineHost, type EngineRpcMethod } from './types.ts'

export interface DevEngineOptions {
  automine: boolean
  intervalMs: number
  producer: Uint8Array
  /** The chain spec's engine.signer: the only address whose blocks are valid (absent: unsigned blocks). */
  signer?: Uint8Array
  /** The signer's private key (required with `signer`): this engine signs every block it makes. */
  signingKey?: Uint8Array
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
  /** RPC submissions waiting for the block that includes them (automine), by tx hash. */
  private readonly inclusionWaiters = new Map<string, () => void>()
  /** One producer, so every block is final at once; signed by it when the spec names it. */
  readonly rules: BlockRules
  /** Seals a built header: signs it, or leaves the seal empty on a chain without a signer. */
  private readonly seal: (header: BlockHeader) => Promise<BlockHeader>

  constructor(opts: DevEngineOptions) {
    this.automine = opts.automine
    this.intervalMs = opts.intervalMs
    this.producer = opts.producer
    this.now = opts.now ?? (() => BigInt(Math.floor(Date.now() / 1000)))
    this.rules = devRules({ ...(opts.signer ? { signer: opts.signer } : {}) })
    const key = opts.signingKey
    if (opts.signer) {
      if (!key) throw new Error(`this dev chain's blocks must be signed by ${bytesToHex(opts.signer)}: the engine needs its key`)
      if (!equalsBytes(privateKeyToAddress(key), opts.signer)) throw new Error(`the signing key is not ${bytesToHex(opts.signer)}'s, the chain's signer`)
      this.seal = async (h) => signDevHeader(h, key)
    } else {
      this.seal = async (h) => h
    }
  }

  async start(host: EngineHost): Promise<void> {
    this.host = host
    this.unsubscribe = host.onPendingTx(() => this.scheduleAutomine())
    this.setInterval(this.intervalMs)
    if (this.automine && host.pendingTxCount() > 0) this.scheduleAutomine()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.releaseAll()
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

  private async produceOne(timestamp?: bigint): Promise<Produced> {
    const host = this.requireHost()
    const parent = host.head().header.timestamp
    let ts = timestamp ?? this.nextTimestamp ?? this.now() + this.timeOffset
    this.nextTimestamp = undefined
    if (ts < parent) ts = parent // timestamps never go backwards
    const produced = await host.produce({ timestamp: ts, seal: this.seal })
    for (const r of produced.rejected) {
      host.log.debug({ tx: bytesToHex(r.tx.hash()), reason: r.reason }, 'tx left out of block')
      this.release(r.tx.hash())
    }
    for (const tx of produced.imported.block.txs) this.release(tx.hash())
    return produced
  }

  async txSubmitted(hash: Uint8Array, status: 'pending' | 'queued'): Promise<void> {
    // A queued tx (nonce gap) cannot be mined yet: answer at once, as Hardhat does.
    if (!this.automine || status !== 'pending' || this.stopped) return
    const key = bytesToHex(hash)
    const included = new Promise<void>((resolve) => {
      const previous = this.inclusionWaiters.get(key)
      this.inclusionWaiters.set(key, () => {
        previous?.()
        resolve()
      })
    })
    this.scheduleAutomine()
    return included
  }

  private release(hash: Uint8Array): void {
    const key = bytesToHex(hash)
    const waiter = this.inclusionWaiters.get(key)
    if (!waiter) return
    this.inclusionWaiters.delete(key)
    waiter()
  }

  /** Nothing more can be sealed now: nobody should wait for a block that is not coming. */
  private releaseAll(): void {
    const waiters = [...this.inclusionWaiters.values()]
    this.inclusionWaiters.clear()
    for (const w of waiters) w()
  }

  private scheduleAutomine(): void {
    if (!this.automine || this.automineScheduled || this.stopped) return
    this.automineScheduled = true
    void this.enqueue(async () => {
      this.automineScheduled = false
      const host = this.requireHost()
      // Keep sealing while txs are pending; each block takes everything that fits.
      try {
        while (!this.stopped && host.pendingTxCount() > 0) {
          // Let requests that already arrived reach the mempool first (one turn of the event
          // loop, no timer): concurrent submissions then share a block instead of each paying
          // for one.
          await new Promise((resolve) => setImmediate(resolve))
          const produced = await this.produceOne()
          if (produced.imported.block.txs.length === 0) break // nothing could be included: wait for new txs
        }
      } finally {
        // Nothing more can be sealed now. A tx that arrived meanwhile has its own run queued
        // (automineScheduled): its submitter keeps waiting for that one.
        if (!this.automineScheduled) this.releaseAll()
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
        arity('evm_mine', params, 0, 1)
        const ts = params[0] === undefined || params[0] === null ? undefined : parseUint(params[0], 'timestamp')
        await this.mine(ts)
        return '0x0'
      },
      hardhat_mine: async (params) => {
        arity('hardhat_mine', params, 0, 2)
        const count = params[0] === undefined ? 1n : parseUint(params[0], 'block count')
        const interval = params[1] === undefined ? 1n : parseUint(params[1], 'interval')
        if (count > 100_000n) throw new EngineParamsError('hardhat_mine: at most 100000 blocks per call')
        for (let i = 0n; i < count; i++) {
          const parent = this.requireHost().head().header.timestamp
          const base = this.now() + this.timeOffset
          await this.mine(i === 0n ? undefined : parent + interval > base ? parent + interval : base)
        }
        return true
      },
      evm_increaseTime: (params) => {
        arity('evm_increaseTime', params, 1, 1)
        this.timeOffset += parseUint(params[0], 'seconds')
        return Number(this.timeOffset)
      },
      evm_setNextBlockTimestamp: (params) => {
        arity('evm_setNextBlockTimestamp', params, 1, 1)
        const ts = parseUint(params[0], 'timestamp')
        const parent = this.requireHost().head().header.timestamp
        if (ts < parent) throw new EngineParamsError(`timestamp ${ts} is before the head's timestamp ${parent}`)
        this.nextTimestamp = ts
        return null
      },
      evm_setAutomine: (params) => {
        arity('evm_setAutomine', params, 1, 1)
        if (typeof params[0] !== 'boolean') throw new EngineParamsError('evm_setAutomine expects a boolean')
        this.automine = params[0]
        if (this.automine) this.scheduleAutomine()
        return true
      },
      evm_setIntervalMining: (params) => {
        arity('evm_setIntervalMining', params, 1, 1)
        const ms = Number(parseUint(params[0], 'interval'))
        this.setInterval(ms)
        return true
      },
    }
  }
}

function arity(method: string, params: unknown[], min: number, max: number): void {
  if (params.length > max) throw new EngineParamsError(`${method}: too many arguments, want at most ${max}`)
  if (params.length < min) throw new EngineParamsError(`${method}: missing value for required argument ${params.length}`)
}

function parseUint(v: unknown, name: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v)) return BigInt(v)
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) return BigInt(v)
  throw new EngineParamsError(`${name} must be a non-negative integer or hex quantity`)
}
