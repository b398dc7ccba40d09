/**
 * The hashrate double spender as a miner strategy for the lab's PoW network
 * (src/lab/sim/pow-network.ts), with Rosenfeld's pre-mined block: it mines, on the honest tip,
 * a block holding a tx that pays its own funds back to itself (following honest blocks while it
 * has none); once it has that block it sends the merchant a payment spending the same funds
 * (same sender, same nonce) and from then on mines privately on its own branch, ignoring the
 * honest blocks except to count them. When the honest branch has at least z blocks (the
 * merchant has z confirmations and hands over the goods) and its own branch is strictly longer,
 * it publishes its tip; the honest nodes' importers fetch the branch and switch to it (more
 * work), and the payment leaves their chains for good: its nonce is spent by the conflicting tx.
 * @module
 */
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, createAddressFromPrivateKey } from '@ethereumjs/util'
import type { ChainSpec } from '../../chain/spec/index.ts'
import { ethereumCustomCrypto } from '../../crypto/secp256k1.ts'
import { makeCommon } from '../../execution/index.ts'
import type { MinerContext, MinerStrategy } from '../sim/pow-network.ts'

export interface DoubleSpendTxs {
  /** attacker -> merchant, nonce n */
  payment: TypedTransaction
  /** attacker -> attacker's other address, the same nonce n: only one of the two can ever be in a chain */
  conflict: TypedTransaction
}

/** The payment and its conflicting twin, signed by `attackerKey` (a funded account of the spec). */
export function doubleSpendTxs(spec: ChainSpec, attackerKey: Uint8Array, merchant: Uint8Array, attackerOther: Uint8Array, value: bigint, nonce = 0n): DoubleSpendTxs {
  const common = makeCommon(spec.chainId, ethereumCustomCrypto())
  const tx = (to: Uint8Array) =>
    createFeeMarket1559Tx(
      { nonce, to: new Address(to), value, gasLimit: 21000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 2_000_000_000n, chainId: common.chainId() },
      { common },
    ).sign(attackerKey)
  return { payment: tx(merchant), conflict: tx(attackerOther) }
}

export function addressOfKey(key: Uint8Array): Uint8Array {
  return createAddressFromPrivateKey(key).bytes
}

export type DoubleSpendPhase = 'premine' | 'private' | 'published'

export class DoubleSpender implements MinerStrategy {
  phase: DoubleSpendPhase = 'premine'
  /** Height of the fork point (the payment's parent) once the pre-mined block exists. */
  forkHeight = 0n
  /** The attacker's private tip. */
  tip?: Uint8Array
  /** Blocks of its own branch above the fork point (the pre-mined one included). */
  privateLength = 0
  /** Honest blocks seen above the fork point (the merchant's confirmations). */
  honestBlocks = 0
  /** Virtual seconds at which it published (undefined: never). */
  publishedAt?: number

  constructor(
    private readonly o: {
      txs: DoubleSpendTxs
      confirmations: number
      /** The honest nodes: they receive the payment once the block is pre-mined. */
      honestNodes: readonly number[]
      /** Publishing stops after this many virtual seconds (a rented hashrate's hour); default never. */
      deadlineSeconds?: number
    },
  ) {}

  txs(): readonly TypedTransaction[] {
    return [this.o.txs.conflict]
  }

  miningParent(ctx: MinerContext): Uint8Array {
    return this.phase === 'private' && this.tip ? this.tip : ctx.node.head.hash
  }

  onMined(ctx: MinerContext, hash: Uint8Array): void {
    if (this.phase === 'published') {
      ctx.publish(hash)
      return
    }
    const height = ctx.info(hash).height
    if (this.phase === 'premine') {
      this.phase = 'private'
      this.forkHeight = height - 1n
      ctx.network.submitTx(this.o.txs.payment, this.o.honestNodes)
    }
    this.tip = hash
    this.privateLength = Number(height - this.forkHeight)
    this.maybePublish(ctx)
  }

  async onReceived(ctx: MinerContext, hash: Uint8Array): Promise<void> {
    // Before its block exists it follows the honest tip like any miner; after, it only counts.
    if (this.phase === 'premine' || this.phase === 'published') {
      await ctx.accept(hash)
      return
    }
    const height = ctx.info(hash).height
    const above = Number(height - this.forkHeight)
    if (above > this.honestBlocks) this.honestBlocks = above
    this.maybePublish(ctx)
  }

  private maybePublish(ctx: MinerContext): void {
    if (this.phase !== 'private' || !this.tip) return
    if (this.o.deadlineSeconds !== undefined && ctx.now > this.o.deadlineSeconds) return
    if (this.honestBlocks >= this.o.confirmations && this.privateLength > this.honestBlocks) {
      this.phase = 'published'
      this.publishedAt = ctx.now
      ctx.publish(this.tip)
    }
  }
}
