/**
 * The `pow` consensus engine: Nakamoto consensus. Any node may mine; a miner builds a block
 * template on its head, searches a nonce on worker threads (miner.ts) and commits the block
 * when the proof is found; other nodes check the seal (seal.ts) and follow the branch with the
 * most cumulative work (the importer's fork choice). The template is rebuilt when a new head
 * arrives (the search is cancelled at once) and when new txs arrive and it is a few seconds old.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { bytesToHex } from '@ethereumjs/util'
import type { BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { PowEngineSpec } from '../../chain/spec/index.ts'
import type { ConsensusEngine, EngineHost, EngineReadings, EngineRpcMethod } from '../types.ts'
import { Miner } from './miner.ts'
import { encodePowSeal, sealHash, type HeaderSource, type SealChainId } from './seal.ts'
import { PowRules } from './rules.ts'
import { compactToTarget } from './target.ts'

export interface PowEngineOptions {
  spec: PowEngineSpec
  blockTimeMs: number
  headers: HeaderSource
  /** Credited with subsidies and tips of the blocks this node mines. */
  coinbase: Uint8Array
  /** Mine (else only verify and follow). */
  mine: boolean
  /** Worker threads; default one per core. */
  threads?: number
  now?: () => bigint
  /** Chains with a chain-id fork: the chain id each height's seal commits to. */
  sealChainId?: SealChainId
}

/** The template a running search belongs to was overtaken (new head or better txs). */
class StaleTemplate extends Error {}

/** A template this old is rebuilt when new txs arrive. */
const REFRESH_AFTER_MS = 2000

export class PowEngine implements ConsensusEngine {
  readonly type = 'pow'
  readonly producer: Uint8Array
  readonly rules: PowRules
  readonly readings: EngineReadings = { kind: 'pow', hashrate: () => Math.round(this.miner?.hashrate() ?? 0) }
  private miner?: Miner
  private host?: EngineHost
  private stopped = false
  private loop?: Promise<void>
  private template?: { parent: string; startedAt: number }
  private unsubscribe: Array<() => void> = []
  private blocksMined = 0
  private readonly now: () => bigint

  constructor(private readonly opts: PowEngineOptions) {
    this.producer = opts.coinbase
    this.now = opts.now ?? (() => BigInt(Math.floor(Date.now() / 1000)))
    this.rules = new PowRules(opts.spec, opts.blockTimeMs, opts.headers, this.now, opts.sealChainId)
  }

  /** Mines the header: finds a nonce for the bits its branch requires. Throws StaleTemplate when overtaken. */
  async seal(header: BlockHeader): Promise<BlockHeader> {
    if (!this.miner) throw new Error('this node does not mine (start it with --mine)')
    const parent = this.opts.headers.getHeader(header.parentHash)
    if (!parent) throw new BlockError('UNKNOWN_PARENT', `parent ${bytesToHex(header.parentHash)} is unknown`)
    const bits = this.rules.expectedBits(header.parentHash, parent)
    const unsealed = { ...header, seal: new Uint8Array(0) }
    // A random start: a rebuilt template with the same contents does not search the same nonces again.
    const startNonce = new DataView(randomBytes(8).buffer).getBigUint64(0)
    const found = await this.miner.mine({ sealHash: sealHash(unsealed, this.opts.sealChainId?.(unsealed.height)), bits, target: compactToTarget(bits), startNonce })
    if (!found) throw new StaleTemplate('the template was replaced')
    return { ...header, seal: encodePowSeal({ bits, nonce: found.nonce }) }
  }

  async start(host: EngineHost): Promise<void> {
    this.host = host
    if (!this.opts.mine) return
    this.miner = new Miner({ ...(this.opts.threads ? { threads: this.opts.threads } : {}) })
    // A new head (ours or a peer's) makes the running search pointless: stop it now.
    this.unsubscribe.push(host.onHead(() => this.overtaken()))
    this.unsubscribe.push(
      host.onPendingTx(() => {
        if (this.template && Date.now() - this.template.startedAt > REFRESH_AFTER_MS) this.miner?.cancel()
      }),
    )
    host.log.info({ threads: this.miner.stats().threads, coinbase: bytesToHex(this.producer) }, 'mining')
    this.loop = this.mineLoop()
  }

  /**
   * The clock, but past the median time of the last blocks (the rule every node checks) and not
   * before the parent. Blocks found faster than one a second share a timestamp until the median
   * forces a step: timestamps never run far ahead of the clock (nodes refuse blocks from the future).
   */
  private nextTimestamp(parentHash: Uint8Array, parent: BlockHeader): bigint {
    const earliest = this.rules.medianTimePastAfter(parentHash, parent) + 1n
    let ts = this.now()
    if (ts < earliest) ts = earliest
    if (ts < parent.timestamp) ts = parent.timestamp
    return ts
  }

  private overtaken(): void {
    const head = this.host?.head()
    if (this.template && head && bytesToHex(head.hash) !== this.template.parent) this.miner?.cancel()
  }

  private async mineLoop(): Promise<void> {
    const host = this.host!
    while (!this.stopped) {
      const head = host.head()
      this.template = { parent: bytesToHex(head.hash), startedAt: Date.now() }
      try {
        const produced = await host.produce({ timestamp: this.nextTimestamp(head.hash, head.header), seal: (h) => this.seal(h) })
        this.blocksMined++
        host.log.info(
          { height: Number(produced.imported.block.header.height), hash: bytesToHex(produced.imported.hash), txs: produced.imported.block.txs.length, hashrate: Math.round(this.miner!.hashrate()) },
          'block mined',
        )
      } catch (err) {
        if (this.stopped) break
        if (err instanceof StaleTemplate || (err instanceof BlockError && (err.code === 'NOT_EXTENDING_HEAD' || err.code === 'ALREADY_KNOWN'))) continue
        host.log.warn({ err: (err as Error).message }, 'mining failed; retrying')
        await new Promise((r) => setTimeout(r, 1000))
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const u of this.unsubscribe) u()
    this.miner?.cancel()
    await this.loop?.catch(() => undefined)
    await this.miner?.close()
  }

  async txSubmitted(): Promise<void> {}

  miningStatus() {
    const stats = this.miner?.stats()
    return {
      mining: Boolean(this.miner),
      threads: stats?.threads ?? 0,
      hashrate: Math.round(this.miner?.hashrate() ?? 0),
      totalHashes: (stats?.totalHashes ?? 0n).toString(),
      blocksMined: this.blocksMined,
      coinbase: bytesToHex(this.producer),
    }
  }

  rpcMethods(): Record<string, EngineRpcMethod> {
    return {
      eth_mining: () => Boolean(this.miner),
      eth_hashrate: () => `0x${Math.round(this.miner?.hashrate() ?? 0).toString(16)}`,
      catena_mining: () => this.miningStatus(),
    }
  }
}
