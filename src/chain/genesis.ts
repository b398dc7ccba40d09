/**
 * The genesis block of a chain spec: the allocated state, committed like any block, and a
 * header at height 0 whose id every node derives identically from the same spec.
 */
import { Account, Address, bigIntToBytes, createAddressFromString, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import { createEVM } from '@ethereumjs/evm'
import { merkleRoot } from '../crypto/merkle.ts'
import { PERMISSIONS_ADDRESS, SNAPSHOT_CALLDATA, STAKE_SNAPSHOT_CALLDATA, STAKING_ADDRESS, permissionsInitCode, stakingInitCode } from '../contracts/index.ts'
import { callSystemContract, deploySystemContract } from '../execution/index.ts'
import { EMPTY_STATE_ROOT, OverlayState, openWorldState } from '../state/index.ts'
import type { BatchOp, KeyValueStore } from '../storage/index.ts'
import type { BlockHeader } from './block.ts'
import { paramsAt, type BftValidatorSpec, type ChainSpec, type StakingSpec } from './spec/index.ts'

export interface GenesisBuild {
  header: BlockHeader
  stateOps: BatchOp[]
  /** Wei that exists at genesis: counts against the supply cap. */
  issued: bigint
  /** Permissioned chains: the permissions contract's snapshot() at genesis. */
  permissions?: Uint8Array
  /** PoS chains: the staking contract's snapshot() at genesis. */
  stakes?: Uint8Array
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
  const permissions = spec.permissions ? await deployPermissions(spec, state, common) : undefined
  const staking = stakedEngine(spec) ? await deployStaking(spec, state, common) : undefined
  if (staking) issued += staking.bonded
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
  return { header, stateOps: world.db.takeOps(), issued, ...(permissions ? { permissions } : {}), ...(staking ? { stakes: staking.snapshot } : {}) }
}

/**
 * Deploys the staking contract holding the genesis validators' stakes: the wei they bond is
 * created here (it counts toward the supply issued) and sits in the contract's balance.
 */
async function deployStaking(spec: ChainSpec, state: OverlayState, common: Common): Promise<{ snapshot: Uint8Array; bonded: bigint }> {
  const engine = stakedEngine(spec)
  if (!engine) throw new Error('deployStaking needs a chain spec with staking (PoS or PoH)')
  const s = engine.staking
  const address = hexToBytes(STAKING_ADDRESS)
  if (spec.genesis.alloc.has(STAKING_ADDRESS.toLowerCase())) {
    throw new Error(`genesis alloc must leave ${STAKING_ADDRESS} free: the staking contract lives there`)
  }
  const validators = engine.validators.map((v) => ({ address: v.address, stake: v.stake ?? s.minStake }))
  const bonded = validators.reduce((sum, v) => sum + v.stake, 0n)
  await state.putAccount(new Address(address), new Account(1n, bonded))
  const evm = await createEVM({ common, stateManager: state })
  const params = {
    minStake: s.minStake,
    unbondingBlocks: BigInt(s.unbondingBlocks),
    slashBasisPoints: BigInt(s.slashBasisPoints),
    jailBlocks: BigInt(s.jailBlocks),
    maxValidators: BigInt(s.maxValidators),
  }
  await deploySystemContract(evm, state, address, stakingInitCode({ validators, params }))
  return { snapshot: await callSystemContract(evm, state, address, STAKE_SNAPSHOT_CALLDATA), bonded }
}

/** The engine spec of a chain whose validators bond stake in the staking contract (PoS BFT, PoH). */
function stakedEngine(spec: ChainSpec): { validators: BftValidatorSpec[]; staking: StakingSpec } | undefined {
  const e = spec.engine
  if (e.type === 'poh') return e
  if (e.type === 'bft' && e.staking) return { validators: e.validators, staking: e.staking }
  return undefined
}

/** Deploys the permissions contract at its fixed address, seeded from the spec; returns its first snapshot. */
async function deployPermissions(spec: ChainSpec, state: OverlayState, common: Common): Promise<Uint8Array> {
  const p = spec.permissions!
  const address = hexToBytes(PERMISSIONS_ADDRESS)
  if (spec.genesis.alloc.has(PERMISSIONS_ADDRESS.toLowerCase())) {
    throw new Error(`genesis alloc must leave ${PERMISSIONS_ADDRESS} free: the permissions contract lives there`)
  }
  const evm = await createEVM({ common, stateManager: state })
  const validators = spec.engine.type === 'bft' ? spec.engine.validators : []
  await deploySystemContract(evm, state, address, permissionsInitCode({ admins: p.admins, validators, accounts: p.accounts, nodes: p.nodes }))
  return callSystemContract(evm, state, address, SNAPSHOT_CALLDATA)
}

export function u256(value: bigint): Uint8Array {
  return setLengthLeft(bigIntToBytes(value), 32)
}
