import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createVM, type VM } from '@ethereumjs/vm'
import { Account, Address, createAddressFromString } from '@ethereumjs/util'
import {
  encodeAbiParameters,
  encodeDeployData,
  encodeErrorResult,
  encodeFunctionData,
  getAddress,
  hexToBytes,
  parseAbi,
  type AbiParameter,
} from 'viem'
import { makeCommon } from '../../../src/execution/common.ts'
import { evmBlock } from '../../../src/execution/evm-context.ts'
import {
  STAKE_SNAPSHOT_CALLDATA,
  STAKING_ABI,
  STAKING_ADDRESS,
  STAKING_PARAMS_CALLDATA,
  SYSTEM_ADDRESS,
  StakingCodecError,
  TOTAL_BURNED_CALLDATA,
  TOTAL_STAKED_CALLDATA,
  TOTAL_UNBONDING_CALLDATA,
  decodeBool,
  decodeStakeSnapshot,
  decodeStakingLog,
  decodeStakingParams,
  decodeUint,
  decodeUnbonding,
  encodeIsJailed,
  encodeIsSlashed,
  encodeJailedUntil,
  encodeSlash,
  encodeStake,
  encodeStakeOf,
  encodeUnbondingOf,
  encodeUnjail,
  encodeUnstake,
  encodeWithdraw,
  loadArtifact,
  stakingInitCode,
  stakingRevertReason,
  stakingRuntimeCode,
  votingPowers,
} from '../../../src/contracts/index.ts'
import type { StakeSnapshot, StakingInit, StakingLog, StakingParams, UnbondingEntry } from '../../../src/contracts/index.ts'
import { compileSources } from '../../helpers/solc.ts'
import { hex, taggedAddress, words } from '../../helpers/addresses.ts'

const CONTRACT = createAddressFromString(STAKING_ADDRESS)
const SYSTEM = hexToBytes(SYSTEM_ADDRESS)
const GAS = 30_000_000n
const ETH = 10n ** 18n

const addr = (tag: number) => taggedAddress(0xaa, tag)

const V1 = addr(1)
const V2 = addr(2)
const V3 = addr(3)
const V4 = addr(4)
const NEW = addr(0x50)
const OUTSIDER = addr(0x99)

const PARAMS: StakingParams = { minStake: 10n * ETH, unbondingBlocks: 100n, slashBasisPoints: 1000n, jailBlocks: 50n, maxValidators: 3n }
const GENESIS: StakingInit = {
  validators: [
    { address: V1, stake: 100n * ETH },
    { address: V2, stake: 50n * ETH },
    { address: V3, stake: 30n * ETH },
    { address: V4, stake: 20n * ETH },
  ],
  params: PARAMS,
}

/** Contracts that withdraw from the staking contract: one re-enters from receive(), one refuses payment. */
const CALLERS_SOL = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IStaking {
    function stake() external payable;
    function unstake(uint256 amount) external;
    function withdraw() external returns (uint256);
}

contract ReentrantWithdrawer {
    IStaking internal constant STAKING = IStaking(${getAddress(STAKING_ADDRESS)});
    uint256 public reentries;
    uint256 public paidInside;
    uint256 public received;

    function stake() external payable { STAKING.stake{value: msg.value}(); }
    function unstake(uint256 amount) external { STAKING.unstake(amount); }
    function withdraw() external returns (uint256) { return STAKING.withdraw(); }

    receive() external payable {
        received += msg.value;
        // Try to be paid again while the first payment is still in flight.
        if (reentries < 3) {
            reentries++;
            paidInside += STAKING.withdraw();
        }
    }
}

contract PaymentRefuser {
    IStaking internal constant STAKING = IStaking(${getAddress(STAKING_ADDRESS)});
    function stake() external payable { STAKING.stake{value: msg.value}(); }
    function unstake(uint256 amount) external { STAKING.unstake(amount); }
    function withdraw() external returns (uint256) { return STAKING.withdraw(); }
}
`
const CALLER_ABI = parseAbi([
  'function stake() payable',
  'function unstake(uint256 amount)',
  'function withdraw() returns (uint256)',
  'function reentries() view returns (uint256)',
  'function paidInside() view returns (uint256)',
  'function received() view returns (uint256)',
])
let compiledCallers: ReturnType<typeof compileSources> | undefined
const callers = () => (compiledCallers ??= compileSources({ 'Callers.sol': CALLERS_SOL }))

interface CallResult {
  reverted: boolean
  returnValue: Uint8Array
  reason: string | undefined
  logs: StakingLog[]
}

interface CallOptions {
  value?: bigint
  /** Block number the call runs in; the harness's current height by default. */
  height?: bigint
}

/** The staking contract deployed the way genesis does, in a real ethereumjs VM. */
class Harness {
  /** NUMBER of the block calls run in, unless a call says otherwise. */
  height = 1n

  constructor(readonly vm: VM) {}

  static deploy(init: StakingInit = GENESIS): Promise<Harness> {
    return Harness.create(stakingInitCode(init), init.validators.reduce((sum, v) => sum + v.stake, 0n))
  }

  /** As genesis: the account exists with nonce 1 and the total stake, then runCode runs the constructor in it. */
  static async create(initCode: Uint8Array, balance: bigint): Promise<Harness> {
    const vm = await createVM({ common: makeCommon(1n) })
    await vm.stateManager.putAccount(CONTRACT, new Account(1n, balance))
    const res = await vm.evm.runCode({ code: initCode, to: CONTRACT, caller: new Address(new Uint8Array(20)), gasLimit: GAS })
    if (res.exceptionError !== undefined) {
      throw new Error(`constructor reverted: ${stakingRevertReason(res.returnValue) ?? res.exceptionError.error}`)
    }
    await vm.stateManager.putCode(CONTRACT, res.returnValue)
    return new Harness(vm)
  }

  async fund(account: Uint8Array, wei: bigint): Promise<void> {
    const a = new Address(account)
    const current = (await this.vm.stateManager.getAccount(a)) ?? new Account()
    await this.vm.stateManager.putAccount(a, new Account(current.nonce, current.balance + wei))
  }

  async balance(account: Uint8Array | Address): Promise<bigint> {
    const a = account instanceof Address ? account : new Address(account)
    return (await this.vm.stateManager.getAccount(a))?.balance ?? 0n
  }

  async raw(from: Uint8Array, to: Address, data: Uint8Array, opts: CallOptions = {}) {
    const block = evmBlock(
      {
        height: opts.height ?? this.height,
        timestamp: 1_700_000_000n,
        producer: new Uint8Array(20),
        gasLimit: GAS,
        baseFee: 0n,
        parentHash: new Uint8Array(32),
      },
      this.vm.common,
    )
    return this.vm.evm.runCall({ caller: new Address(from), to, data, value: opts.value ?? 0n, gasLimit: GAS, block })
  }

  async call(from: Uint8Array, data: Uint8Array, opts: CallOptions = {}): Promise<CallResult> {
    return this.callVia(from, CONTRACT, data, opts)
  }

  /** A call to `to` (the staking contract or a contract that calls it); keeps only the staking contract's logs. */
  async callVia(from: Uint8Array, to: Address, data: Uint8Array, opts: CallOptions = {}): Promise<CallResult> {
    const r = (await this.raw(from, to, data, opts)).execResult
    const logs = (r.logs ?? [])
      .filter(([address]) => hex(address) === STAKING_ADDRESS)
      .map(([, topics, data]) => {
        const log = decodeStakingLog(topics, data)
        assert.ok(log !== undefined, 'every log of the contract decodes')
        return log
      })
    const reverted = r.exceptionError !== undefined
    return { reverted, returnValue: r.returnValue, reason: reverted ? stakingRevertReason(r.returnValue) : undefined, logs }
  }

  async ok(from: Uint8Array, data: Uint8Array, opts?: CallOptions): Promise<CallResult> {
    const r = await this.call(from, data, opts)
    assert.equal(r.reverted, false, `call reverted: ${r.reason}`)
    return r
  }

  /** Asserts the call reverts, leaves no logs, and returns its reason in words. */
  async fails(from: Uint8Array, data: Uint8Array, opts?: CallOptions): Promise<string> {
    const r = await this.call(from, data, opts)
    assert.equal(r.reverted, true, 'call should have reverted')
    assert.equal(r.logs.length, 0)
    assert.ok(r.reason !== undefined, 'revert has a decodable reason')
    return r.reason
  }

  /** Stakes from a freshly funded account. */
  async stake(from: Uint8Array, wei: bigint): Promise<StakingLog[]> {
    await this.fund(from, wei)
    return (await this.ok(from, encodeStake(), { value: wei })).logs
  }

  async unstake(from: Uint8Array, wei: bigint): Promise<StakingLog[]> {
    return (await this.ok(from, encodeUnstake(wei))).logs
  }

  async withdraw(from: Uint8Array): Promise<{ amount: bigint; logs: StakingLog[] }> {
    const r = await this.ok(from, encodeWithdraw())
    return { amount: decodeUint(r.returnValue), logs: r.logs }
  }

  async slash(validator: Uint8Array, height: bigint, round: number): Promise<StakingLog[]> {
    return (await this.ok(SYSTEM, encodeSlash(validator, height, round))).logs
  }

  async snapshot(): Promise<StakeSnapshot> {
    return decodeStakeSnapshot((await this.ok(OUTSIDER, STAKE_SNAPSHOT_CALLDATA)).returnValue)
  }

  async uint(data: Uint8Array): Promise<bigint> {
    return decodeUint((await this.ok(OUTSIDER, data)).returnValue)
  }

  async bool(data: Uint8Array): Promise<boolean> {
    return decodeBool((await this.ok(OUTSIDER, data)).returnValue)
  }

  stakeOf = (v: Uint8Array) => this.uint(encodeStakeOf(v))
  jailedUntil = (v: Uint8Array) => this.uint(encodeJailedUntil(v))

  async unbonding(v: Uint8Array): Promise<UnbondingEntry[]> {
    return decodeUnbonding((await this.ok(OUTSIDER, encodeUnbondingOf(v))).returnValue)
  }

  async totals(): Promise<{ staked: bigint; unbonding: bigint; burned: bigint }> {
    return {
      staked: await this.uint(TOTAL_STAKED_CALLDATA),
      unbonding: await this.uint(TOTAL_UNBONDING_CALLDATA),
      burned: await this.uint(TOTAL_BURNED_CALLDATA),
    }
  }

  /** The contract holds exactly what is staked, unbonding and burned. */
  async assertSolvent(): Promise<void> {
    const t = await this.totals()
    assert.equal(await this.balance(CONTRACT), t.staked + t.unbonding + t.burned)
  }

  /** Installs a compiled contract's runtime code at `at` (no constructor needed). */
  async install(name: string, at: Uint8Array): Promise<Address> {
    const a = new Address(at)
    await this.vm.stateManager.putAccount(a, new Account(1n, 0n))
    await this.vm.stateManager.putCode(a, hexToBytes(callers()[name]!.deployedBytecode))
    return a
  }
}

const activeList = (s: StakeSnapshot) => s.validators.map((v) => [hex(v.address), v.stake])
const eq = <T>(actual: T, expected: T, message?: string) => assert.deepEqual(actual, expected, message)

describe('Staking deployment', () => {
  test('genesis deployment stores the runtime code; snapshot, stakes, params and totals equal the init', async () => {
    const h = await Harness.deploy()
    eq(await h.vm.stateManager.getCode(CONTRACT), stakingRuntimeCode())
    eq(activeList(await h.snapshot()), [
      [hex(V1), 100n * ETH],
      [hex(V2), 50n * ETH],
      [hex(V3), 30n * ETH],
      [hex(V4), 20n * ETH],
    ])
    eq(await h.stakeOf(V2), 50n * ETH)
    eq(await h.stakeOf(OUTSIDER), 0n)
    eq(decodeStakingParams((await h.ok(OUTSIDER, STAKING_PARAMS_CALLDATA)).returnValue), PARAMS)
    eq(await h.totals(), { staked: 200n * ETH, unbonding: 0n, burned: 0n })
    await h.assertSolvent()
    const system = await h.ok(OUTSIDER, hexToBytes(encodeFunctionData({ abi: STAKING_ABI, functionName: 'SYSTEM_ADDRESS' })))
    eq(hex(system.returnValue.slice(12)), SYSTEM_ADDRESS)
  })

  test('an empty genesis set is allowed; the runtime code does not depend on the parameters', async () => {
    const params = { minStake: 1n, unbondingBlocks: 7n, slashBasisPoints: 0n, jailBlocks: 0n, maxValidators: 100n }
    const h = await Harness.deploy({ validators: [], params })
    eq(await h.vm.stateManager.getCode(CONTRACT), stakingRuntimeCode())
    eq(decodeStakingParams((await h.ok(OUTSIDER, STAKING_PARAMS_CALLDATA)).returnValue), params)
    eq((await h.snapshot()).validators, [])
    eq(await h.totals(), { staked: 0n, unbonding: 0n, burned: 0n })
  })

  test('the TypeScript ABI matches the compiled contract', () => {
    type Item = { type: string; name?: string; inputs?: readonly AbiParameter[]; outputs?: readonly AbiParameter[]; stateMutability?: string }
    const params = (ps: readonly AbiParameter[] = []) => ps.map((p) => `${p.type} ${'indexed' in p && p.indexed ? 'indexed ' : ''}${p.name ?? ''}`).join(', ')
    const sigs = (abi: readonly Item[]) =>
      abi.map((i) => `${i.type} ${i.name ?? ''}(${params(i.inputs)}) ${i.stateMutability ?? ''} (${params(i.outputs)})`).sort()
    eq(sigs(STAKING_ABI), sigs(loadArtifact('Staking').abi))
  })

  test('the constructor rejects bad genesis stakes and parameters with a reason', async () => {
    const reason = async (init: StakingInit): Promise<string> => {
      try {
        await Harness.deploy(init)
      } catch (err) {
        return (err as Error).message
      }
      assert.fail('constructor accepted the init')
    }
    const withParams = (p: Partial<StakingParams>): StakingInit => ({ ...GENESIS, params: { ...PARAMS, ...p } })
    eq(
      await reason({ ...GENESIS, validators: [{ address: V1, stake: 10n * ETH }, { address: V1, stake: 20n * ETH }] }),
      `constructor reverted: validator ${words(V1)} is listed twice`,
    )
    eq(
      await reason({ ...GENESIS, validators: [{ address: new Uint8Array(20), stake: 10n * ETH }] }),
      'constructor reverted: the zero address cannot be a validator',
    )
    eq(
      await reason({ ...GENESIS, validators: [{ address: V1, stake: 10n * ETH - 1n }] }),
      `constructor reverted: validator ${words(V1)} has stake ${10n * ETH - 1n} wei, below the minimum of ${10n * ETH} wei`,
    )
    eq(
      await reason(withParams({ slashBasisPoints: 10_001n })),
      'constructor reverted: invalid slashBasisPoints 10001: it must be at most 10000 (100%)',
    )
    eq(await reason(withParams({ minStake: 0n })), 'constructor reverted: invalid minStake 0: it must be above 0')
    eq(await reason(withParams({ maxValidators: 0n })), 'constructor reverted: invalid maxValidators 0: it must be above 0')
    eq(await reason(withParams({ jailBlocks: 1n << 32n })), 'constructor reverted: invalid jailBlocks 4294967296: it must be at most 4294967295')
    // 100% slashing is a valid choice.
    await Harness.deploy(withParams({ slashBasisPoints: 10_000n }))

    // A shape the TypeScript encoder cannot produce, sent to the contract directly.
    const raw = hexToBytes(
      encodeDeployData({ abi: STAKING_ABI, bytecode: loadArtifact('Staking').bytecode, args: [[hex(V1)], [], 1n, 1n, 1n, 1n, 1n] }),
    )
    await assert.rejects(Harness.create(raw, 0n), /constructor reverted: 1 validators but 0 stakes/)
  })

  test('stakingInitCode checks shapes before encoding', () => {
    const invalid = (e: unknown) => e instanceof StakingCodecError && e.code === 'INVALID_INPUT'
    assert.throws(() => stakingInitCode({ ...GENESIS, validators: [{ address: new Uint8Array(19), stake: 1n }] }), /validators\[0\].address must be 20 bytes/)
    assert.throws(() => stakingInitCode({ ...GENESIS, validators: [{ address: V1, stake: -1n }] }), invalid)
    assert.throws(() => stakingInitCode({ ...GENESIS, params: { ...PARAMS, jailBlocks: 1n << 256n } }), /params.jailBlocks must be a uint256/)
  })
})

describe('votingPowers', () => {
  test('takes the top maxValidators by stake and sorts them by address', async () => {
    const h = await Harness.deploy()
    const powers = votingPowers(await h.snapshot(), PARAMS.maxValidators)
    eq(
      powers.map((p) => [hex(p.address), p.power]),
      [
        [hex(V1), 100n],
        [hex(V2), 50n],
        [hex(V3), 30n],
      ],
    )
  })

  test('whole units, at least 1; ties broken by the lower address', () => {
    const s: StakeSnapshot = {
      validators: [
        { address: V4, stake: 5n * ETH },
        { address: V3, stake: 5n * ETH },
        { address: V2, stake: ETH / 2n },
        { address: V1, stake: 7n * ETH + ETH - 1n },
      ],
    }
    eq(
      votingPowers(s, 2n).map((p) => [hex(p.address), p.power]),
      [
        [hex(V1), 7n],
        [hex(V3), 5n],
      ],
    )
    eq(
      votingPowers(s, 10n).map((p) => [hex(p.address), p.power]),
      [
        [hex(V1), 7n],
        [hex(V2), 1n],
        [hex(V3), 5n],
        [hex(V4), 5n],
      ],
    )
    eq(
      votingPowers(s, 10n, 1000n * ETH).map((p) => p.power),
      [1n, 1n, 1n, 1n],
    )
    eq(votingPowers({ validators: [] }, 3n), [])
    assert.throws(() => votingPowers(s, 0n), /maxValidators must be at least 1/)
    assert.throws(() => votingPowers(s, 3n, 0n), /unit must be at least 1 wei/)
    assert.throws(() => votingPowers({ validators: [{ address: V1, stake: 1n }, { address: V1, stake: 2n }] }, 3n), /appears twice/)
  })
})

describe('Staking stake and unstake', () => {
  test('stake adds; a new validator becomes active only once it reaches minStake', async () => {
    const h = await Harness.deploy()
    eq(await h.stake(NEW, 4n * ETH), [{ event: 'Staked', validator: NEW, amount: 4n * ETH, total: 4n * ETH }])
    eq(await h.stakeOf(NEW), 4n * ETH)
    eq((await h.snapshot()).validators.length, 4, 'below minStake: not active')
    eq(await h.stake(NEW, 6n * ETH - 1n), [{ event: 'Staked', validator: NEW, amount: 6n * ETH - 1n, total: 10n * ETH - 1n }])
    eq((await h.snapshot()).validators.length, 4, 'one wei short')
    await h.stake(NEW, 1n)
    eq(activeList(await h.snapshot()).at(-1), [hex(NEW), 10n * ETH])

    eq(await h.stake(V2, 5n * ETH), [{ event: 'Staked', validator: V2, amount: 5n * ETH, total: 55n * ETH }])
    eq(await h.stakeOf(V2), 55n * ETH)
    eq((await h.totals()).staked, 215n * ETH)
    await h.assertSolvent()

    eq(await h.fails(NEW, encodeStake()), 'the amount must be above 0')
    // Plain transfers are refused: stake must go through stake().
    await h.fund(OUTSIDER, ETH)
    eq((await h.call(OUTSIDER, new Uint8Array(0), { value: ETH })).reverted, true)
  })

  test('unstake moves stake into an unbonding entry released unbondingBlocks later; no dust is left behind', async () => {
    const h = await Harness.deploy()
    h.height = 10n
    eq(await h.fails(V1, encodeUnstake(0n)), 'the amount must be above 0')
    eq(await h.fails(V1, encodeUnstake(101n * ETH)), `cannot unstake ${101n * ETH} wei: ${words(V1)} has only ${100n * ETH} wei staked`)
    eq(
      await h.fails(V1, encodeUnstake(95n * ETH)),
      `unstaking would leave ${words(V1)} with ${5n * ETH} wei staked, below the minimum of ${10n * ETH} wei: unstake all or leave at least the minimum`,
    )
    eq(await h.fails(OUTSIDER, encodeUnstake(1n)), `cannot unstake 1 wei: ${words(OUTSIDER)} has only 0 wei staked`)

    eq(await h.unstake(V1, 30n * ETH), [{ event: 'Unstaked', validator: V1, amount: 30n * ETH, releaseHeight: 110n }])
    // A second unstake in the same block joins the same entry.
    await h.unstake(V1, 10n * ETH)
    h.height = 12n
    await h.unstake(V1, 50n * ETH) // leaves exactly minStake
    eq(await h.stakeOf(V1), 10n * ETH)
    eq(await h.unbonding(V1), [
      { amount: 40n * ETH, releaseHeight: 110n },
      { amount: 50n * ETH, releaseHeight: 112n },
    ])
    eq(await h.totals(), { staked: 110n * ETH, unbonding: 90n * ETH, burned: 0n })
    eq(activeList(await h.snapshot())[0], [hex(V1), 10n * ETH])

    // Unstaking everything takes the validator out of the active set.
    await h.unstake(V1, 10n * ETH)
    eq(activeList(await h.snapshot()), [
      [hex(V4), 20n * ETH], // moved into V1's slot
      [hex(V2), 50n * ETH],
      [hex(V3), 30n * ETH],
    ])
    await h.assertSolvent()
  })

  test('at most 16 unbonding entries at a time; withdrawing frees them', async () => {
    const h = await Harness.deploy()
    for (let i = 0n; i < 16n; i++) {
      h.height = 100n + i
      await h.unstake(V1, ETH)
    }
    h.height = 200n
    eq(await h.fails(V1, encodeUnstake(ETH)), `${words(V1)} already has 16 unbonding entries: withdraw released ones or wait`)
    h.height = 201n // releases the entries of heights 100 and 101
    eq((await h.withdraw(V1)).amount, 2n * ETH)
    await h.unstake(V1, ETH)
    eq((await h.unbonding(V1)).length, 15)
  })
})

describe('Staking withdraw', () => {
  test('pays nothing before release and exactly the released entries after; the caller balance grows by it', async () => {
    const h = await Harness.deploy()
    h.height = 10n
    await h.unstake(V2, 20n * ETH) // released at 110
    h.height = 50n
    await h.unstake(V2, 10n * ETH) // released at 150
    const before = await h.balance(V2)

    h.height = 109n
    eq(await h.withdraw(V2), { amount: 0n, logs: [] })
    eq(await h.balance(V2), before)

    h.height = 110n
    eq(await h.withdraw(V2), { amount: 20n * ETH, logs: [{ event: 'Withdrawn', validator: V2, amount: 20n * ETH }] })
    eq(await h.balance(V2), before + 20n * ETH)
    eq(await h.unbonding(V2), [{ amount: 10n * ETH, releaseHeight: 150n }])
    eq((await h.withdraw(V2)).amount, 0n, 'nothing twice')

    h.height = 1000n
    eq((await h.withdraw(V2)).amount, 10n * ETH)
    eq(await h.balance(V2), before + 30n * ETH)
    eq(await h.unbonding(V2), [])
    eq(await h.totals(), { staked: 170n * ETH, unbonding: 0n, burned: 0n })
    eq((await h.withdraw(OUTSIDER)).amount, 0n)
    await h.assertSolvent()
  })

  test('a contract that re-enters withdraw from receive() gets nothing extra', async () => {
    const h = await Harness.deploy()
    const attacker = await h.install('ReentrantWithdrawer', addr(0x666))
    const via = (fn: 'stake' | 'unstake' | 'withdraw' | 'reentries' | 'paidInside' | 'received', args: bigint[] = [], value = 0n) =>
      h.callVia(OUTSIDER, attacker, hexToBytes(encodeFunctionData({ abi: CALLER_ABI, functionName: fn, args } as Parameters<typeof encodeFunctionData>[0])), { value })

    await h.fund(OUTSIDER, 100n * ETH)
    eq((await via('stake', [], 40n * ETH)).logs, [{ event: 'Staked', validator: attacker.bytes, amount: 40n * ETH, total: 40n * ETH }])
    h.height = 5n
    await via('unstake', [15n * ETH])
    h.height = 6n
    await via('unstake', [15n * ETH])
    await h.unstake(V1, 50n * ETH) // someone else's unbonding sits in the same contract

    h.height = 106n
    const contractBefore = await h.balance(CONTRACT)
    const r = await via('withdraw')
    eq(r.reverted, false, r.reason)
    eq(decodeUint(r.returnValue), 30n * ETH)
    eq(r.logs, [{ event: 'Withdrawn', validator: attacker.bytes, amount: 30n * ETH }])
    eq(decodeUint((await via('reentries')).returnValue), 1n, 'it did re-enter')
    eq(decodeUint((await via('paidInside')).returnValue), 0n)
    eq(decodeUint((await via('received')).returnValue), 30n * ETH)
    eq(await h.balance(attacker), 30n * ETH)
    eq(await h.balance(CONTRACT), contractBefore - 30n * ETH)
    eq(await h.unbonding(V1), [{ amount: 50n * ETH, releaseHeight: 106n }])
    await h.assertSolvent()
  })

  test('a recipient that refuses payment keeps its entries', async () => {
    const h = await Harness.deploy()
    const refuser = await h.install('PaymentRefuser', addr(0x777))
    const data = (fn: 'stake' | 'unstake' | 'withdraw', args: bigint[] = []) =>
      hexToBytes(encodeFunctionData({ abi: CALLER_ABI, functionName: fn, args } as Parameters<typeof encodeFunctionData>[0]))
    await h.fund(OUTSIDER, 20n * ETH)
    await h.callVia(OUTSIDER, refuser, data('stake'), { value: 20n * ETH })
    await h.callVia(OUTSIDER, refuser, data('unstake', [20n * ETH]))
    h.height = 500n
    const r = await h.callVia(OUTSIDER, refuser, data('withdraw'))
    eq(r.reverted, true)
    // The inner revert bubbles up through the refuser's call.
    eq(r.reason, `paying ${20n * ETH} wei to ${words(refuser.bytes)} failed: the recipient rejected the transfer`)
    eq(await h.unbonding(refuser.bytes), [{ amount: 20n * ETH, releaseHeight: 101n }])
    await h.assertSolvent()
  })
})

describe('Staking slashing and jail', () => {
  test('only SYSTEM_ADDRESS may slash; unknown validators cannot be slashed', async () => {
    const h = await Harness.deploy()
    eq(await h.fails(V1, encodeSlash(V2, 5n, 0)), `caller ${words(V1)} is not the system address: only the node may slash`)
    eq(await h.fails(OUTSIDER, encodeSlash(V2, 5n, 0)), `caller ${words(OUTSIDER)} is not the system address: only the node may slash`)
    eq(await h.fails(SYSTEM, encodeSlash(OUTSIDER, 5n, 0)), `${words(OUTSIDER)} has never staked`)
    eq(await h.stakeOf(V2), 50n * ETH)
    eq(await h.bool(encodeIsSlashed(V2, 5n, 0)), false)
  })

  test('burns the share of stake and of unbonding entries, jails, and leaves the active set', async () => {
    const h = await Harness.deploy()
    h.height = 10n
    await h.unstake(V2, 20n * ETH) // 30 staked, 20 unbonding until 110
    h.height = 20n
    const logs = await h.slash(V2, 15n, 2)
    // 10% of 30 + 10% of 20
    eq(logs, [
      { event: 'Slashed', validator: V2, height: 15n, round: 2n, burned: 5n * ETH },
      { event: 'Jailed', validator: V2, until: 70n },
    ])
    eq(await h.stakeOf(V2), 27n * ETH)
    eq(await h.unbonding(V2), [{ amount: 18n * ETH, releaseHeight: 110n }])
    eq(await h.totals(), { staked: 177n * ETH, unbonding: 18n * ETH, burned: 5n * ETH })
    eq(await h.jailedUntil(V2), 70n)
    eq(await h.bool(encodeIsJailed(V2)), true)
    eq(await h.bool(encodeIsSlashed(V2, 15n, 2)), true)
    eq(await h.bool(encodeIsSlashed(V2, 15n, 3)), false)
    eq(
      (await h.snapshot()).validators.map((v) => hex(v.address)),
      [V1, V3, V4].map(hex),
    )
    eq(
      votingPowers(await h.snapshot(), 3n).map((p) => hex(p.address)),
      [V1, V3, V4].map(hex),
    )
    await h.assertSolvent()
  })

  test('the same offense is punished once; a jailed validator is not slashed again; after unjail a new offense is', async () => {
    const h = await Harness.deploy()
    h.height = 20n
    await h.slash(V1, 15n, 0)
    eq(await h.stakeOf(V1), 90n * ETH)
    eq(await h.fails(SYSTEM, encodeSlash(V1, 15n, 0)), `validator ${words(V1)} was already slashed for its double vote at height 15 round 0`)
    // More double votes before it left the set: caught once is enough.
    eq(await h.fails(SYSTEM, encodeSlash(V1, 15n, 1)), `validator ${words(V1)} is jailed until block 70: it is not slashed again`)
    eq(await h.fails(SYSTEM, encodeSlash(V1, 21n, 0)), `validator ${words(V1)} is jailed until block 70: it is not slashed again`)
    eq(await h.stakeOf(V1), 90n * ETH)

    h.height = 70n
    await h.ok(V1, encodeUnjail())
    h.height = 75n
    const again = await h.slash(V1, 74n, 0)
    eq(again, [
      { event: 'Slashed', validator: V1, height: 74n, round: 0n, burned: 9n * ETH },
      { event: 'Jailed', validator: V1, until: 125n },
    ])
    eq(await h.stakeOf(V1), 81n * ETH)
    eq((await h.totals()).burned, 19n * ETH)
    await h.assertSolvent()
  })

  test('stake while jailed stays jailed; unjail before the end reverts, after it works', async () => {
    const h = await Harness.deploy()
    h.height = 20n
    eq(await h.fails(V3, encodeUnjail()), `validator ${words(V3)} is not jailed`)
    await h.slash(V3, 19n, 0) // 27 left, jailed until 70
    await h.stake(V3, 3n * ETH)
    eq(await h.stakeOf(V3), 30n * ETH)
    eq(await h.jailedUntil(V3), 70n)
    assert.ok(!(await h.snapshot()).validators.some((v) => hex(v.address) === hex(V3)))

    h.height = 69n
    eq(await h.fails(V3, encodeUnjail()), `validator ${words(V3)} is jailed until block 70`)
    h.height = 70n
    eq((await h.ok(V3, encodeUnjail())).logs, [{ event: 'Unjailed', validator: V3 }])
    eq(await h.jailedUntil(V3), 0n)
    eq(await h.bool(encodeIsJailed(V3)), false)
    eq(activeList(await h.snapshot()).find(([a]) => a === hex(V3)), [hex(V3), 30n * ETH])
    eq(await h.fails(V3, encodeUnjail()), `validator ${words(V3)} is not jailed`)
  })

  test('a slash that drops stake below minStake removes the validator until it tops up', async () => {
    const h = await Harness.deploy({ ...GENESIS, params: { ...PARAMS, slashBasisPoints: 7500n } })
    h.height = 20n
    await h.slash(V4, 19n, 0) // 20 -> 5: below the minimum of 10
    eq(await h.stakeOf(V4), 5n * ETH)
    h.height = 100n
    eq(await h.fails(V4, encodeUnjail()), `validator ${words(V4)} has stake ${5n * ETH} wei, below the minimum of ${10n * ETH} wei`)
    await h.stake(V4, 5n * ETH)
    await h.ok(V4, encodeUnjail())
    eq(activeList(await h.snapshot()).find(([a]) => a === hex(V4)), [hex(V4), 10n * ETH])
    await h.assertSolvent()
  })

  test('burned wei is counted and can never be withdrawn', async () => {
    const h = await Harness.deploy({ ...GENESIS, params: { ...PARAMS, slashBasisPoints: 10_000n } })
    h.height = 10n
    await h.unstake(V1, 40n * ETH)
    h.height = 20n
    eq((await h.slash(V1, 12n, 0))[0], { event: 'Slashed', validator: V1, height: 12n, round: 0n, burned: 100n * ETH })
    eq(await h.stakeOf(V1), 0n)
    eq(await h.unbonding(V1), [{ amount: 0n, releaseHeight: 110n }])
    h.height = 1000n
    const before = await h.balance(V1)
    eq(await h.withdraw(V1), { amount: 0n, logs: [] })
    eq(await h.balance(V1), before)
    eq(await h.unbonding(V1), [], 'the emptied entry is cleared')

    // Everyone else leaves with everything they have: only the burned wei stays.
    for (const v of [V2, V3, V4]) {
      await h.unstake(v, await h.stakeOf(v))
    }
    h.height = 2000n
    for (const v of [V2, V3, V4]) await h.withdraw(v)
    eq(await h.totals(), { staked: 0n, unbonding: 0n, burned: 100n * ETH })
    eq(await h.balance(CONTRACT), 100n * ETH)
    eq((await h.snapshot()).validators, [])
  })
})

describe('Staking codec', () => {
  test('encoders accept bytes or hex addresses and number or bigint rounds; reject bad input', () => {
    eq(encodeSlash(V1, 5n, 3), encodeSlash(hex(V1), 5n, 3n))
    eq(encodeStakeOf(getAddress(hex(V1))), encodeStakeOf(V1))
    assert.throws(() => encodeSlash(new Uint8Array(32), 1n, 0), /validator must be 20 bytes/)
    assert.throws(() => encodeSlash(V1, -1n, 0), (e: unknown) => e instanceof StakingCodecError && e.code === 'INVALID_INPUT')
    assert.throws(() => encodeSlash(V1, 1n, 1.5), /round must be a uint256/)
    assert.throws(() => encodeUnstake(-5n), /amount must be a uint256/)
    eq(STAKE_SNAPSHOT_CALLDATA, hexToBytes(encodeFunctionData({ abi: STAKING_ABI, functionName: 'snapshot' })))
    eq(encodeWithdraw().length, 4)
  })

  test('decoders reject malformed return data with a typed error', () => {
    const bad = (e: unknown) => e instanceof StakingCodecError && e.code === 'INVALID_RETURN_DATA'
    assert.throws(() => decodeStakeSnapshot(new Uint8Array(5)), bad)
    assert.throws(() => decodeUnbonding(new Uint8Array(0)), /cannot decode unbondingOf\(\)/)
    assert.throws(() => decodeUint(new Uint8Array(31)), bad)
    assert.throws(() => decodeBool(new Uint8Array(32).fill(2)), bad)
    const mismatched = hexToBytes(encodeAbiParameters([{ type: 'address[]' }, { type: 'uint256[]' }], [[hex(V1)], []]))
    assert.throws(() => decodeStakeSnapshot(mismatched), /1 validators but 0 stakes/)
  })

  test('decodeStakingLog ignores logs of other events', () => {
    const topic = hexToBytes('0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef') // ERC-20 Transfer
    eq(decodeStakingLog([topic, new Uint8Array(32), new Uint8Array(32)], new Uint8Array(32)), undefined)
    eq(decodeStakingLog([], new Uint8Array(0)), undefined)
  })

  test('stakingRevertReason decodes Error(string), Panic and custom errors; undefined otherwise', () => {
    const errorString = encodeErrorResult({ abi: parseAbi(['error Error(string)']), errorName: 'Error', args: ['no'] })
    eq(stakingRevertReason(hexToBytes(errorString)), 'no')
    const panic = hexToBytes(`0x4e487b71${encodeAbiParameters([{ type: 'uint256' }], [0x11n]).slice(2)}`)
    eq(stakingRevertReason(panic), 'panic: arithmetic overflow or underflow')
    const custom = encodeErrorResult({ abi: STAKING_ABI, errorName: 'StillJailed', args: [getAddress(hex(V1)), 9n] })
    eq(stakingRevertReason(hexToBytes(custom)), `validator ${words(V1)} is jailed until block 9`)
    eq(stakingRevertReason(new Uint8Array(0)), undefined)
    eq(stakingRevertReason(hexToBytes('0xdeadbeef')), undefined)
  })

  test('every custom error of the contract has words', () => {
    for (const item of STAKING_ABI) {
      if (item.type !== 'error') continue
      const args = item.inputs.map((input) => (input.type === 'address' ? getAddress(hex(V1)) : input.type === 'string' ? 'minStake' : 3n))
      const data = encodeErrorResult({ abi: [item], errorName: item.name, args } as Parameters<typeof encodeErrorResult>[0])
      const reason = stakingRevertReason(hexToBytes(data))
      assert.ok(reason !== undefined && reason.length > 0 && !reason.includes('undefined'), `${item.name}: ${reason}`)
    }
  })
})
