/**
 * The ethereumjs block that gives the EVM its context (NUMBER, TIMESTAMP, COINBASE,
 * BASEFEE, GASLIMIT, PREVRANDAO) for a Catena block, and the BLOCKHASH lookup that returns
 * Catena block ids.
 */
import { createBlock, type Block as EvmBlock } from '@ethereumjs/block'
import { Address } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import type { EVMMockBlockchainInterface } from '@ethereumjs/evm'

export interface BlockContext {
  height: bigint
  timestamp: bigint
  producer: Uint8Array
  gasLimit: bigint
  baseFee: bigint
  /** PREVRANDAO: Catena has no beacon randomness; the parent id is the closest analogue. */
  parentHash: Uint8Array
}

export function evmBlock(ctx: BlockContext, common: Common): EvmBlock {
  return createBlock(
    {
      header: {
        number: ctx.height,
        timestamp: ctx.timestamp,
        coinbase: new Address(ctx.producer),
        gasLimit: ctx.gasLimit,
        baseFeePerGas: ctx.baseFee,
        mixHash: ctx.parentHash,
        parentHash: ctx.parentHash,
        difficulty: 0n,
        excessBlobGas: 0n,
        blobGasUsed: 0n,
      },
    },
    { common, skipConsensusFormatValidation: true },
  )
}

/** BLOCKHASH for the EVM, answered from the canonical chain. */
export function blockHashLookup(hashAt: (height: bigint) => Uint8Array | undefined): EVMMockBlockchainInterface {
  const lookup: EVMMockBlockchainInterface = {
    async getBlock(height: number) {
      const hash = hashAt(BigInt(height)) ?? new Uint8Array(32)
      return { hash: () => hash }
    },
    async putBlock() {},
    shallowCopy: () => lookup,
  }
  return lookup
}
