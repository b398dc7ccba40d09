/**
 * The genesis block of a chain spec: the allocated state, committed like any block, and a
 * header at height 0 whose id every node derives identically from the same spec.
 */
import { Account, Address, bigIntToBytes, createAddressFromString, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import { merkleRoot } from '../crypto/merkle.ts'
import { EMPTY_STATE_ROOT, OverlayState, openWorldState } from '../state/index.ts'
import type { BatchOp, KeyValueStore } from '../storage/index.ts'
import type { BlockHeader } from './block.ts'
import { paramsAt, type ChainSpec } from './spec/index.ts'

export interface GenesisBuild {
  header: BlockHeader
  stateOps: BatchOp[]
  /** Wei that exists at genesis: counts against the supply cap. */
  issued: bigint
}

export async function buildGenesis(spec: ChainSpec, store: KeyValueStore, common: Common): Promise<GenesisBuild> {
  const world = openWorldState(store, EMPTY_STATE_ROOT, common)
  const state = new OverlayState(world)
  let issued = 0n
  for (const [addr, alloc] of spec.genesis.alloc) {
    const address: Address = createAddressFromString(addr)
    await state.putAccount(address, new Account(alloc.nonce, alloc.balance))
    if (alloc.code && alloc.code.length > 0) await state.putCode(address, alloc.code)
    for (const [slot, value] of alloc.storage ?? []) {
      await state.putStorage(address, setLengthLeft(hexToBytes(slot as `0x${string}`), 32), hexToBytes(value as `0x${string}`))
    }
    issued += alloc.balance
  }
  const stateRoot = await state.commitToTrie()
  const params = paramsAt(spec, 0n)
  const header: BlockHeader = {
    parentHash: new Uint8Array(32),
    height: 0n,
    timestamp: spec.genesis.timestamp,
    txRoot: merkleRoot([]),
    stateRoot,
    receiptsRoot: merkleRoot([]),
    logsBloom: new Uint8Array(256),
    gasLimit: params.limits.blockGasLimit,
    gasUsed: 0n,
    baseFee: spec.feeMarket.initialBaseFee,
    producer: new Uint8Array(20),
    extraData: spec.genesis.extraData,
    seal: new Uint8Array(0),
  }
  return { header, stateOps: world.db.takeOps(), issued }
}

export function u256(value: bigint): Uint8Array {
  return setLengthLeft(bigIntToBytes(value), 32)
}
