/**
 * The multisig wallet (contracts/MultiSig.sol) in a real ethereumjs VM, deployed by a
 * contract-creation call like a user's transaction, and its TypeScript codecs.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createVM, type VM } from '@ethereumjs/vm'
import { Account, Address } from '@ethereumjs/util'
import {
  decodeAbiParameters,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeErrorResult,
  encodeFunctionData,
  getAddress,
  hexToBytes,
  parseAbi,
  type AbiParameter,
  type Hex,
} from 'viem'
import { makeCommon } from '../../../src/execution/common.ts'
import {
  MULTISIG_ABI,
  MULTISIG_MAX_OWNERS,
  MULTISIG_OWNERS_CALLDATA,
  MULTISIG_PROPOSAL_COUNT_CALLDATA,
  MULTISIG_THRESHOLD_CALLDATA,
  MultisigCodecError,
  decodeMultisigApprovals,
  decodeMultisigIsApprovedBy,
  decodeMultisigIsOwner,
  decodeMultisigLog,
  decodeMultisigOwners,
  decodeMultisigPending,
  decodeMultisigProposal,
  decodeMultisigProposalCount,
  decodeMultisigRevert,
  decodeMultisigSubmitResult,
  decodeMultisigThreshold,
  decodeOwnerChange,
  encodeMultisigApprovals,
  encodeMultisigApprove,
  encodeMultisigExecute,
  encodeMultisigIsApprovedBy,
  encodeMultisigIsOwner,
  encodeMultisigPending,
  encodeMultisigProposal,
  encodeMultisigRevoke,
  encodeMultisigSubmit,
  encodeOwnerChange,
  loadArtifact,
  multisigInitCode,
  multisigRevertReason,
  multisigRuntimeCode,
} from '../../../src/contracts/index.ts'
import type { MultisigCallInput, MultisigLog, MultisigOwnerChangeInput, MultisigProposal } from '../../../src/contracts/index.ts'
import { compileSources } from '../../helpers/solc.ts'
import { hex, taggedAddress, words } from '../../helpers/addresses.ts'

const GAS = 30_000_000n
const ETH = 10n ** 18n

const addr = (tag: number) => taggedAddress(0xbb, tag)
const hexes = (list: Uint8Array[]) => list.map(hex)

const [A, B, C, D, E] = [1, 2, 3, 4, 5].map(addr) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]
const DEPLOYER = addr(0x90)
const OUTSIDER = addr(0x99)
const RECIPIENT = addr(0x200)

/** Helpers the wallet calls: a target that checks its input, and an owner that re-enters execute. */
const HELPERS_SOL = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IMultiSig {
    function execute(uint256 id) external returns (bytes memory);
}

contract Target {
    uint256 public x;
    uint256 public paid;
    function set(uint256 v) external payable returns (uint256) {
        require(v != 0, "zero is not allowed");
        x = v;
        paid += msg.value;
        return v * 2;
    }
}

/// An owner whose receive() tries to execute another proposal while the first one pays it.
contract Reenterer {
    IMultiSig public wallet;
    uint256 public target;
    bytes public refusal;
    uint256 public received;
    function aim(address w, uint256 id) external { wallet = IMultiSig(w); target = id; }
    function execute(uint256 id) external { wallet.execute(id); }
    receive() external payable {
        received += msg.value;
        if (address(wallet) != address(0) && refusal.length == 0) {
            try wallet.execute(target) { refusal = hex"01"; } catch (bytes memory e) { refusal = e; }
        }
    }
}
`
const HELPERS_ABI = parseAbi([
  'function x() view returns (uint256)',
  'function paid() view returns (uint256)',
  'function set(uint256 v) payable returns (uint256)',
  'function aim(address w, uint256 id)',
  'function execute(uint256 id)',
  'function refusal() view returns (bytes)',
  'function received() view returns (uint256)',
])
let helpers: ReturnType<typeof compileSources>

interface CallResult {
  reverted: boolean
  returnValue: Uint8Array
  reason: string | undefined
  logs: MultisigLog[]
}

/** One VM with a wallet deployed by a contract-creation call, as a user's tx would. */
class Wallet {
  constructor(
    readonly vm: VM,
    readonly address: Address,
  ) {}

  get bytes(): Uint8Array {
    return this.address.bytes
  }

  static async vm(): Promise<VM> {
    const vm = await createVM({ common: makeCommon(1n) })
    for (const a of [A, B, C, D, E, DEPLOYER, OUTSIDER]) await vm.stateManager.putAccount(new Address(a), new Account(0n, 1000n * ETH))
    return vm
  }

  static async deploy(owners: Uint8Array[], threshold: bigint, vm?: VM): Promise<Wallet> {
    const v = vm ?? (await Wallet.vm())
    const res = await v.evm.runCall({ caller: new Address(DEPLOYER), data: multisigInitCode({ owners, threshold }), gasLimit: GAS })
    const r = res.execResult
    if (r.exceptionError !== undefined) throw new Error(`constructor reverted: ${multisigRevertReason(r.returnValue) ?? r.exceptionError.error}`)
    assert.ok(res.createdAddress, 'a contract was created')
    return new Wallet(v, res.createdAddress)
  }

  /** Deploys any creation code from DEPLOYER; returns its address. */
  async deployHelper(bytecode: Hex): Promise<Address> {
    const res = await this.vm.evm.runCall({ caller: new Address(DEPLOYER), data: hexToBytes(bytecode), gasLimit: GAS })
    assert.equal(res.execResult.exceptionError, undefined)
    return res.createdAddress!
  }

  async raw(from: Uint8Array, to: Address, data: Uint8Array, value = 0n) {
    return (await this.vm.evm.runCall({ caller: new Address(from), to, data, value, gasLimit: GAS })).execResult
  }

  /** A call to the wallet; keeps the wallet's logs. */
  async call(from: Uint8Array, data: Uint8Array, value = 0n): Promise<CallResult> {
    return this.callVia(from, this.address, data, value)
  }

  async callVia(from: Uint8Array, to: Address, data: Uint8Array, value = 0n): Promise<CallResult> {
    const r = await this.raw(from, to, data, value)
    const logs = (r.logs ?? [])
      .filter(([address]) => hex(address) === this.address.toString())
      .map(([, topics, data]) => {
        const log = decodeMultisigLog(topics, data)
        assert.ok(log !== undefined, 'every log of the wallet decodes')
        return log
      })
    const reverted = r.exceptionError !== undefined
    return { reverted, returnValue: r.returnValue, reason: reverted ? multisigRevertReason(r.returnValue) : undefined, logs }
  }

  async ok(from: Uint8Array, data: Uint8Array, value = 0n): Promise<CallResult> {
    const r = await this.call(from, data, value)
    assert.equal(r.reverted, false, `call reverted: ${r.reason}`)
    return r
  }

  /** Asserts the call reverts with no logs and returns its reason in words. */
  async fails(from: Uint8Array, data: Uint8Array, value = 0n): Promise<string> {
    const r = await this.call(from, data, value)
    assert.equal(r.reverted, true, 'call should have reverted')
    assert.equal(r.logs.length, 0)
    assert.ok(r.reason !== undefined, 'revert has a decodable reason')
    return r.reason
  }

  async fund(wei: bigint): Promise<MultisigLog[]> {
    return (await this.ok(DEPLOYER, new Uint8Array(0), wei)).logs
  }

  async submit(from: Uint8Array, call: MultisigCallInput): Promise<bigint> {
    return decodeMultisigSubmitResult((await this.ok(from, encodeMultisigSubmit(call))).returnValue)
  }

  approve = (from: Uint8Array, id: bigint) => this.ok(from, encodeMultisigApprove(id))
  revoke = (from: Uint8Array, id: bigint) => this.ok(from, encodeMultisigRevoke(id))
  execute = (from: Uint8Array, id: bigint) => this.ok(from, encodeMultisigExecute(id))

  /** Submits a self-call, has the other owners approve it, and executes it. */
  async change(change: MultisigOwnerChangeInput, proposer: Uint8Array, ...approvers: Uint8Array[]): Promise<MultisigLog[]> {
    const id = await this.submit(proposer, { to: this.bytes, data: encodeOwnerChange(change) })
    for (const a of approvers) await this.approve(a, id)
    return (await this.execute(proposer, id)).logs
  }

  async view(data: Uint8Array): Promise<Uint8Array> {
    return (await this.ok(OUTSIDER, data)).returnValue
  }

  owners = async () => hexes(decodeMultisigOwners(await this.view(MULTISIG_OWNERS_CALLDATA)))
  threshold = async () => decodeMultisigThreshold(await this.view(MULTISIG_THRESHOLD_CALLDATA))
  proposalCount = async () => decodeMultisigProposalCount(await this.view(MULTISIG_PROPOSAL_COUNT_CALLDATA))
  proposal = async (id: bigint): Promise<MultisigProposal> => decodeMultisigProposal(await this.view(encodeMultisigProposal(id)))
  approvers = async (id: bigint) => hexes(decodeMultisigApprovals(await this.view(encodeMultisigApprovals(id))))
  isOwner = async (a: Uint8Array) => decodeMultisigIsOwner(await this.view(encodeMultisigIsOwner(a)))
  isApprovedBy = async (id: bigint, a: Uint8Array) => decodeMultisigIsApprovedBy(await this.view(encodeMultisigIsApprovedBy(id, a)))
  pending = async (from = 0n, to = 1000n) => decodeMultisigPending(await this.view(encodeMultisigPending(from, to)))

  async balance(a: Uint8Array | Address): Promise<bigint> {
    return (await this.vm.stateManager.getAccount(a instanceof Address ? a : new Address(a)))?.balance ?? 0n
  }
}

const twoOfThree = async () => {
  const w = await Wallet.deploy([A, B, C], 2n)
  await w.fund(10n * ETH)
  return w
}

before(() => {
  helpers = compileSources({ 'Helpers.sol': HELPERS_SOL })
})

describe('MultiSig deployment', () => {
  test('a creation call deploys the runtime code with the owners and threshold', async () => {
    const vm = await Wallet.vm()
    const res = await vm.evm.runCall({ caller: new Address(DEPLOYER), data: multisigInitCode({ owners: [A, hex(B) as Hex, C], threshold: 2n }), gasLimit: GAS })
    const w = new Wallet(vm, res.createdAddress!)
    assert.deepEqual(await vm.stateManager.getCode(w.address), multisigRuntimeCode())
    const logs = (res.execResult.logs ?? []).map(([, topics, data]) => decodeMultisigLog(topics, data))
    assert.deepEqual(logs, [
      { event: 'OwnerAdded', owner: A },
      { event: 'OwnerAdded', owner: B },
      { event: 'OwnerAdded', owner: C },
      { event: 'ThresholdChanged', threshold: 2n },
    ])
    assert.deepEqual(await w.owners(), hexes([A, B, C]))
    assert.equal(await w.threshold(), 2n)
    assert.equal(await w.proposalCount(), 0n)
    assert.equal(await w.isOwner(A), true)
    assert.equal(await w.isOwner(OUTSIDER), false)
    assert.deepEqual(await w.pending(), [])
  })

  test('the TypeScript ABI matches the compiled contract', () => {
    type Item = { type: string; name?: string; inputs?: readonly AbiParameter[]; outputs?: readonly AbiParameter[]; stateMutability?: string }
    const params = (ps: readonly AbiParameter[] = []) => ps.map((p) => `${p.type} ${'indexed' in p && p.indexed ? 'indexed ' : ''}${p.name ?? ''}`).join(', ')
    const sigs = (abi: readonly Item[]) =>
      abi.map((i) => `${i.type} ${i.name ?? ''}(${params(i.inputs)}) ${i.stateMutability ?? ''} (${params(i.outputs)})`).sort()
    assert.deepEqual(sigs(MULTISIG_ABI), sigs(loadArtifact('MultiSig').abi))
  })

  test('invalid configurations are refused by the constructor', async () => {
    const vm = await Wallet.vm()
    const reason = async (owners: Uint8Array[], threshold: bigint) =>
      Wallet.deploy(owners, threshold, vm).then(
        () => assert.fail('deployment should fail'),
        (err: Error) => err.message,
      )
    assert.equal(await reason([], 1n), 'constructor reverted: NoOwners (at least one owner is required)')
    assert.match(await reason([A, B], 0n), /InvalidThreshold \(threshold 0 with 2 owners: it must be 1 to 2\)/)
    assert.match(await reason([A, B], 3n), /InvalidThreshold \(threshold 3 with 2 owners/)
    assert.match(await reason([A, B, A], 2n), new RegExp(`OwnerExists \\(${words(A)} is already an owner\\)`))
    assert.match(await reason([A, new Uint8Array(20)], 1n), /InvalidOwner \(0x0{40} cannot be an owner/)
    const many = Array.from({ length: MULTISIG_MAX_OWNERS + 1 }, (_, i) => addr(0x300 + i))
    assert.match(await reason(many, 1n), /TooManyOwners \(51 owners, at most 50 allowed\)/)
    // The cap itself is fine.
    const max = await Wallet.deploy(many.slice(0, MULTISIG_MAX_OWNERS), 50n, vm)
    assert.equal((await max.owners()).length, 50)
  })
})

describe('MultiSig proposals', () => {
  test('2-of-3: a transfer executes only after a second approval, once', async () => {
    const w = await Wallet.deploy([A, B, C], 2n)
    assert.deepEqual(await w.fund(10n * ETH), [{ event: 'Deposit', sender: DEPLOYER, value: 10n * ETH }])
    assert.equal(await w.balance(w.address), 10n * ETH)

    const submitted = await w.ok(A, encodeMultisigSubmit({ to: RECIPIENT, value: 3n * ETH }))
    const id = decodeMultisigSubmitResult(submitted.returnValue)
    assert.equal(id, 0n)
    assert.deepEqual(submitted.logs, [
      { event: 'Submitted', id: 0n, proposer: A, to: RECIPIENT, value: 3n * ETH, data: new Uint8Array(0) },
      { event: 'Approved', id: 0n, owner: A, approvals: 1n },
    ])
    assert.deepEqual(await w.proposal(id), { to: RECIPIENT, value: 3n * ETH, data: new Uint8Array(0), executed: false, proposer: A, approvals: 1n })

    // One approval is not enough, whoever executes.
    assert.equal(await w.fails(A, encodeMultisigExecute(id)), 'NotEnoughApprovals (1 of 2)')
    assert.equal(await w.fails(B, encodeMultisigExecute(id)), 'NotEnoughApprovals (1 of 2)')
    assert.equal(await w.balance(RECIPIENT), 0n)

    assert.deepEqual((await w.approve(B, id)).logs, [{ event: 'Approved', id, owner: B, approvals: 2n }])
    assert.deepEqual(await w.approvers(id), hexes([A, B]))
    assert.equal(await w.balance(RECIPIENT), 0n, 'approval alone sends nothing')

    // Any owner executes, including one that did not approve.
    const executed = await w.execute(C, id)
    assert.deepEqual(executed.logs, [{ event: 'Executed', id, executor: C }])
    assert.equal(await w.balance(RECIPIENT), 3n * ETH)
    assert.equal(await w.balance(w.address), 7n * ETH)
    assert.equal((await w.proposal(id)).executed, true)
    assert.deepEqual(await w.pending(), [])

    // Replay is refused however it is attempted; nothing more is sent.
    assert.equal(await w.fails(A, encodeMultisigExecute(id)), 'AlreadyExecuted (proposal 0 was already executed)')
    assert.equal(await w.fails(C, encodeMultisigApprove(id)), 'AlreadyExecuted (proposal 0 was already executed)')
    assert.equal(await w.fails(A, encodeMultisigRevoke(id)), 'AlreadyExecuted (proposal 0 was already executed)')
    assert.equal(await w.balance(RECIPIENT), 3n * ETH)
  })

  test('revoke drops an approval, so execute fails again', async () => {
    const w = await twoOfThree()
    const id = await w.submit(A, { to: RECIPIENT, value: ETH })
    await w.approve(B, id)
    assert.equal(await w.isApprovedBy(id, B), true)
    assert.deepEqual((await w.revoke(B, id)).logs, [{ event: 'Revoked', id, owner: B, approvals: 1n }])
    assert.equal(await w.isApprovedBy(id, B), false)
    assert.equal((await w.proposal(id)).approvals, 1n)
    assert.equal(await w.fails(C, encodeMultisigExecute(id)), 'NotEnoughApprovals (1 of 2)')
    assert.equal(await w.fails(B, encodeMultisigRevoke(id)), `NotApproved (${words(B)} has not approved proposal 0)`)
    // The proposer can revoke its own approval too, down to none.
    await w.revoke(A, id)
    assert.deepEqual(await w.approvers(id), [])
    assert.equal(await w.fails(A, encodeMultisigExecute(id)), 'NotEnoughApprovals (0 of 2)')
    // Approving again restores it; approving twice is refused.
    await w.approve(A, id)
    assert.equal(await w.fails(A, encodeMultisigApprove(id)), `AlreadyApproved (${words(A)} already approved proposal 0)`)
    await w.approve(C, id)
    await w.execute(A, id)
    assert.equal(await w.balance(RECIPIENT), ETH)
  })

  test('a non-owner cannot submit, approve, revoke or execute', async () => {
    const w = await twoOfThree()
    const id = await w.submit(A, { to: RECIPIENT, value: ETH })
    await w.approve(B, id)
    const notOwner = `NotOwner (${words(OUTSIDER)} is not an owner)`
    assert.equal(await w.fails(OUTSIDER, encodeMultisigSubmit({ to: RECIPIENT, value: ETH })), notOwner)
    assert.equal(await w.fails(OUTSIDER, encodeMultisigApprove(id)), notOwner)
    assert.equal(await w.fails(OUTSIDER, encodeMultisigRevoke(id)), notOwner)
    assert.equal(await w.fails(OUTSIDER, encodeMultisigExecute(id)), notOwner)
    assert.equal(await w.proposalCount(), 1n)
    assert.equal(await w.balance(RECIPIENT), 0n)
  })

  test('unknown ids and the zero address are refused', async () => {
    const w = await twoOfThree()
    assert.equal(await w.fails(A, encodeMultisigApprove(5n)), 'UnknownProposal (there is no proposal 5)')
    assert.equal(await w.fails(A, encodeMultisigExecute(0n)), 'UnknownProposal (there is no proposal 0)')
    assert.equal(await w.fails(OUTSIDER, encodeMultisigProposal(0n)), 'UnknownProposal (there is no proposal 0)')
    assert.equal(await w.fails(OUTSIDER, encodeMultisigApprovals(0n)), 'UnknownProposal (there is no proposal 0)')
    assert.equal(
      await w.fails(A, encodeMultisigSubmit({ to: new Uint8Array(20), value: ETH })),
      'ZeroDestination (a proposal cannot call the zero address)',
    )
  })

  test('a proposal the wallet cannot pay stays pending until it is funded', async () => {
    const w = await Wallet.deploy([A, B], 1n)
    await w.fund(ETH)
    const id = await w.submit(A, { to: RECIPIENT, value: 2n * ETH })
    assert.equal(
      await w.fails(A, encodeMultisigExecute(id)),
      `InsufficientBalance (the wallet holds ${ETH} wei but proposal 0 sends ${2n * ETH} wei)`,
    )
    assert.deepEqual(await w.pending(), [id])
    await w.fund(ETH)
    await w.execute(B, id)
    assert.equal(await w.balance(RECIPIENT), 2n * ETH)
  })

  test('calls with data reach the target; a failed call reverts execute with its reason and can be retried', async () => {
    const w = await twoOfThree()
    const target = await w.deployHelper(helpers.Target!.bytecode)
    const setData = (v: bigint) => hexToBytes(encodeFunctionData({ abi: HELPERS_ABI, functionName: 'set', args: [v] }))

    const bad = await w.submit(A, { to: target.bytes, value: ETH, data: setData(0n) })
    await w.approve(B, bad)
    const reason = await w.fails(A, encodeMultisigExecute(bad))
    assert.equal(reason, 'CallFailed (the call of proposal 0 reverted: zero is not allowed)')
    const raw = await w.call(A, encodeMultisigExecute(bad))
    assert.equal(decodeMultisigRevert(raw.returnValue)?.inner?.error, 'Error')
    assert.deepEqual(await w.pending(), [bad], 'a failed execution leaves the proposal pending')
    assert.equal(await w.balance(target), 0n)

    const good = await w.submit(B, { to: target.bytes, value: ETH, data: setData(21n) })
    await w.approve(C, good)
    const r = await w.execute(C, good)
    // execute returns the call's return data (ABI-wrapped as bytes).
    const ret = decodeFunctionResult({ abi: MULTISIG_ABI, functionName: 'execute', data: hex(r.returnValue) })
    assert.equal(BigInt(ret), 42n)
    const x = await w.raw(OUTSIDER, target, hexToBytes(encodeFunctionData({ abi: HELPERS_ABI, functionName: 'x' })))
    assert.equal(BigInt(hex(x.returnValue)), 21n)
    assert.equal(await w.balance(target), ETH)
  })

  test('execute cannot be re-entered from the call it makes', async () => {
    const vm = await Wallet.vm()
    const probe = new Wallet(vm, new Address(new Uint8Array(20)))
    const reenterer = await probe.deployHelper(helpers.Reenterer!.bytecode)
    const w = await Wallet.deploy([A, B, reenterer.bytes], 2n, vm)
    await w.fund(10n * ETH)
    const payReenterer = await w.submit(A, { to: reenterer.bytes, value: ETH })
    await w.approve(B, payReenterer)
    const other = await w.submit(A, { to: RECIPIENT, value: ETH })
    await w.approve(B, other)
    const callHelper = (functionName: 'aim' | 'refusal' | 'received' | 'execute', args: readonly unknown[] = []) =>
      hexToBytes(encodeFunctionData({ abi: HELPERS_ABI, functionName, args } as Parameters<typeof encodeFunctionData>[0]))

    // While paying the Reenterer (an owner), it tries to execute the other approved proposal.
    assert.equal((await w.raw(OUTSIDER, reenterer, callHelper('aim', [w.address.toString(), other]))).exceptionError, undefined)
    await w.execute(A, payReenterer)
    const refusal = (await w.raw(OUTSIDER, reenterer, callHelper('refusal'))).returnValue
    const inner = decodeAbiParameters([{ type: 'bytes' }], hex(refusal))[0]
    assert.equal(multisigRevertReason(hexToBytes(inner)), 'Reentrancy (execute cannot run inside another execute)')
    assert.equal(await w.balance(reenterer), ETH)
    assert.equal(await w.balance(RECIPIENT), 0n, 'the re-entrant execute sent nothing')
    assert.deepEqual(await w.pending(), [other])
    // Outside an execute the same owner contract may execute it normally.
    assert.equal((await w.raw(OUTSIDER, reenterer, callHelper('execute', [other]))).exceptionError, undefined)
    assert.equal(await w.balance(RECIPIENT), ETH)
    assert.deepEqual(await w.pending(), [])
  })

  test('pendingProposals lists unexecuted ids in a range', async () => {
    const w = await Wallet.deploy([A, B], 1n)
    await w.fund(10n * ETH)
    for (let i = 0; i < 5; i++) await w.submit(A, { to: RECIPIENT, value: 1n })
    await w.execute(A, 1n)
    await w.execute(B, 3n)
    assert.deepEqual(await w.pending(), [0n, 2n, 4n])
    assert.deepEqual(await w.pending(1n, 3n), [2n])
    assert.deepEqual(await w.pending(4n, 2n), [])
    assert.deepEqual(await w.pending(9n, 20n), [])
    assert.equal(await w.proposalCount(), 5n)
  })
})

describe('MultiSig owners and threshold', () => {
  test('direct calls to the owner functions are refused, even from owners', async () => {
    const w = await twoOfThree()
    const onlyWallet = (who: Uint8Array) => `OnlyWallet (only the wallet itself may call this, through an executed proposal; not ${words(who)})`
    for (const change of [
      { kind: 'addOwner', owner: D },
      { kind: 'removeOwner', owner: C },
      { kind: 'replaceOwner', owner: C, newOwner: D },
      { kind: 'changeThreshold', threshold: 1n },
    ] as MultisigOwnerChangeInput[]) {
      assert.equal(await w.fails(A, encodeOwnerChange(change)), onlyWallet(A), change.kind)
      assert.equal(await w.fails(OUTSIDER, encodeOwnerChange(change)), onlyWallet(OUTSIDER), change.kind)
    }
    assert.deepEqual(await w.owners(), hexes([A, B, C]))
    assert.equal(await w.threshold(), 2n)
  })

  test('add, remove, replace and threshold change work through executed proposals', async () => {
    const w = await twoOfThree()
    // A pending change does nothing until executed.
    const pendingAdd = await w.submit(A, { to: w.bytes, data: encodeOwnerChange({ kind: 'addOwner', owner: D }) })
    assert.equal(await w.isOwner(D), false)
    await w.approve(B, pendingAdd)
    assert.deepEqual((await w.execute(C, pendingAdd)).logs, [
      { event: 'OwnerAdded', owner: D },
      { event: 'Executed', id: pendingAdd, executor: C },
    ])
    assert.deepEqual(await w.owners(), hexes([A, B, C, D]))

    assert.deepEqual(await w.change({ kind: 'changeThreshold', threshold: 3n }, A, D), [
      { event: 'ThresholdChanged', threshold: 3n },
      { event: 'Executed', id: 1n, executor: A },
    ])
    assert.equal(await w.threshold(), 3n)

    // Removal swaps the last owner into the gap.
    assert.deepEqual(await w.change({ kind: 'removeOwner', owner: A }, B, C, D), [
      { event: 'OwnerRemoved', owner: A },
      { event: 'Executed', id: 2n, executor: B },
    ])
    assert.deepEqual(await w.owners(), hexes([D, B, C]))
    assert.equal(await w.isOwner(A), false)
    assert.equal(await w.fails(A, encodeMultisigSubmit({ to: RECIPIENT })), `NotOwner (${words(A)} is not an owner)`)

    // Replacement keeps the position.
    assert.deepEqual(await w.change({ kind: 'replaceOwner', owner: B, newOwner: E }, C, D, B), [
      { event: 'OwnerRemoved', owner: B },
      { event: 'OwnerAdded', owner: E },
      { event: 'Executed', id: 3n, executor: C },
    ])
    assert.deepEqual(await w.owners(), hexes([D, E, C]))

    // The new owner approves and the new threshold (3) applies.
    const pay = await w.submit(C, { to: RECIPIENT, value: ETH })
    await w.approve(D, pay)
    assert.equal(await w.fails(C, encodeMultisigExecute(pay)), 'NotEnoughApprovals (2 of 3)')
    await w.approve(E, pay)
    await w.execute(E, pay)
    assert.equal(await w.balance(RECIPIENT), ETH)
  })

  test("a removed or replaced owner's approvals stop counting, also if it is added back", async () => {
    const w = await Wallet.deploy([A, B, C, D], 2n)
    await w.fund(10n * ETH)
    const pay = await w.submit(A, { to: RECIPIENT, value: ETH })
    await w.approve(C, pay)
    assert.equal((await w.proposal(pay)).approvals, 2n)

    await w.change({ kind: 'removeOwner', owner: C }, B, D)
    assert.equal((await w.proposal(pay)).approvals, 1n)
    assert.deepEqual(await w.approvers(pay), hexes([A]))
    assert.equal(await w.isApprovedBy(pay, C), false)
    assert.equal(await w.fails(A, encodeMultisigExecute(pay)), 'NotEnoughApprovals (1 of 2)')

    // Back as an owner, C starts a new term: its old approval does not return.
    await w.change({ kind: 'addOwner', owner: C }, B, D)
    assert.equal((await w.proposal(pay)).approvals, 1n)
    assert.equal(await w.fails(A, encodeMultisigExecute(pay)), 'NotEnoughApprovals (1 of 2)')

    // Replacement: A's approval (the proposer's) goes with A.
    await w.change({ kind: 'replaceOwner', owner: A, newOwner: E }, B, D)
    assert.equal((await w.proposal(pay)).approvals, 0n)
    await w.approve(C, pay)
    await w.approve(E, pay)
    await w.execute(B, pay)
    assert.equal(await w.balance(RECIPIENT), ETH)
  })

  test('invalid owner changes fail at execution with the reason, and the proposal stays pending', async () => {
    const w = await twoOfThree()
    const failing = async (change: MultisigOwnerChangeInput): Promise<string> => {
      const id = await w.submit(A, { to: w.bytes, data: encodeOwnerChange(change) })
      await w.approve(B, id)
      const reason = await w.fails(C, encodeMultisigExecute(id))
      assert.ok((await w.pending()).includes(id))
      return reason
    }
    const prefix = (n: number) => `CallFailed (the call of proposal ${n} reverted: `
    assert.equal(await failing({ kind: 'addOwner', owner: B }), `${prefix(0)}OwnerExists (${words(B)} is already an owner))`)
    assert.equal(await failing({ kind: 'addOwner', owner: new Uint8Array(20) }), `${prefix(1)}InvalidOwner (0x${'0'.repeat(40)} cannot be an owner (the zero address or the wallet itself)))`)
    assert.match(await failing({ kind: 'addOwner', owner: w.bytes }), /InvalidOwner \(0x[0-9a-fA-F]{40} cannot be an owner/)
    assert.equal(await failing({ kind: 'removeOwner', owner: D }), `${prefix(3)}OwnerNotFound (${words(D)} is not an owner))`)
    assert.equal(await failing({ kind: 'replaceOwner', owner: D, newOwner: E }), `${prefix(4)}OwnerNotFound (${words(D)} is not an owner))`)
    assert.equal(await failing({ kind: 'replaceOwner', owner: A, newOwner: C }), `${prefix(5)}OwnerExists (${words(C)} is already an owner))`)
    assert.equal(await failing({ kind: 'changeThreshold', threshold: 0n }), `${prefix(6)}InvalidThreshold (threshold 0 with 3 owners: it must be 1 to 3))`)
    assert.equal(await failing({ kind: 'changeThreshold', threshold: 4n }), `${prefix(7)}InvalidThreshold (threshold 4 with 3 owners: it must be 1 to 3))`)

    // Removing an owner below the threshold is refused; lowering the threshold first allows it.
    await w.change({ kind: 'changeThreshold', threshold: 3n }, A, B, C)
    const remove = await w.submit(A, { to: w.bytes, data: encodeOwnerChange({ kind: 'removeOwner', owner: C }) })
    await w.approve(B, remove)
    await w.approve(C, remove)
    assert.equal(
      await w.fails(A, encodeMultisigExecute(remove)),
      `${prefix(Number(remove))}RemovalBelowThreshold (removing ${words(C)} would leave 2 owners, fewer than the threshold 3))`,
    )
    await w.change({ kind: 'changeThreshold', threshold: 2n }, A, B, C)
    await w.execute(A, remove)
    assert.deepEqual(await w.owners(), hexes([A, B]))

    // The last owner can never go.
    const one = await Wallet.deploy([A], 1n)
    const id = await one.submit(A, { to: one.bytes, data: encodeOwnerChange({ kind: 'removeOwner', owner: A }) })
    assert.match(await one.fails(A, encodeMultisigExecute(id)), /RemovalBelowThreshold \(removing 0x[0-9a-fA-F]{40} would leave 0 owners/)
  })
})

describe('MultiSig codec', () => {
  test('encoders take hex or bytes and reject bad input with a typed error', () => {
    assert.deepEqual(encodeMultisigSubmit({ to: hex(RECIPIENT) as Hex, data: '0x1234' }), encodeMultisigSubmit({ to: RECIPIENT, data: hexToBytes('0x1234') }))
    const invalid = (fn: () => unknown, pattern: RegExp) =>
      assert.throws(fn, (e: unknown) => e instanceof MultisigCodecError && e.code === 'INVALID_INPUT' && pattern.test(e.message))
    invalid(() => encodeMultisigSubmit({ to: '0x1234' as Hex }), /to is not an address/)
    invalid(() => encodeMultisigSubmit({ to: RECIPIENT, data: '0x123' }), /even number of hex digits/)
    invalid(() => encodeMultisigSubmit({ to: RECIPIENT, value: -1n }), /value must be a uint256/)
    invalid(() => encodeMultisigApprove(-1n), /proposal id/)
    invalid(() => multisigInitCode({ owners: [new Uint8Array(19)], threshold: 1n }), /owners\[0\] must be 20 bytes/)
    invalid(() => encodeOwnerChange({ kind: 'nope' } as unknown as MultisigOwnerChangeInput), /unknown owner change "nope"/)
  })

  test('decodeOwnerChange reads back every owner change and nothing else', () => {
    const changes = [
      { kind: 'addOwner', owner: D },
      { kind: 'removeOwner', owner: C },
      { kind: 'replaceOwner', owner: C, newOwner: D },
      { kind: 'changeThreshold', threshold: 7n },
    ] as const
    for (const c of changes) assert.deepEqual(decodeOwnerChange(encodeOwnerChange(c)), c)
    assert.equal(decodeOwnerChange(encodeMultisigApprove(1n)), undefined)
    assert.equal(decodeOwnerChange(new Uint8Array(0)), undefined)
    assert.equal(decodeOwnerChange(hexToBytes('0xdeadbeef')), undefined)
  })

  test('decoders reject malformed return data; foreign logs decode to undefined', () => {
    assert.throws(() => decodeMultisigProposal(new Uint8Array(3)), (e: unknown) => e instanceof MultisigCodecError && e.code === 'INVALID_RETURN_DATA')
    assert.throws(() => decodeMultisigOwners(new Uint8Array(0)), /cannot decode owners\(\)/)
    const transferTopic = hexToBytes('0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef')
    assert.equal(decodeMultisigLog([transferTopic, new Uint8Array(32), new Uint8Array(32)], new Uint8Array(32)), undefined)
    assert.equal(decodeMultisigLog([], new Uint8Array(0)), undefined)
  })

  test('revert reasons: Error(string), Panic, custom errors and nested CallFailed', () => {
    const errorString = encodeErrorResult({ abi: parseAbi(['error Error(string)']), errorName: 'Error', args: ['not today'] })
    assert.equal(multisigRevertReason(hexToBytes(errorString)), 'not today')
    const panic = hexToBytes(`0x4e487b71${encodeAbiParameters([{ type: 'uint256' }], [0x11n]).slice(2)}`)
    assert.equal(multisigRevertReason(panic), 'panic: arithmetic overflow or underflow')
    const notEnough = encodeErrorResult({ abi: MULTISIG_ABI, errorName: 'NotEnoughApprovals', args: [4n, 1n, 2n] })
    assert.deepEqual(decodeMultisigRevert(hexToBytes(notEnough)), { error: 'NotEnoughApprovals', args: [4n, 1n, 2n], reason: 'NotEnoughApprovals (1 of 2)' })
    const wrapped = encodeErrorResult({ abi: MULTISIG_ABI, errorName: 'CallFailed', args: [4n, notEnough] })
    const nested = decodeMultisigRevert(hexToBytes(wrapped))
    assert.equal(nested?.reason, 'CallFailed (the call of proposal 4 reverted: NotEnoughApprovals (1 of 2))')
    assert.equal(nested?.inner?.error, 'NotEnoughApprovals')
    const empty = encodeErrorResult({ abi: MULTISIG_ABI, errorName: 'CallFailed', args: [1n, '0x'] })
    assert.equal(multisigRevertReason(hexToBytes(empty)), 'CallFailed (the call of proposal 1 reverted: no reason given)')
    const opaque = encodeErrorResult({ abi: MULTISIG_ABI, errorName: 'CallFailed', args: [1n, '0xdeadbeef'] })
    assert.equal(multisigRevertReason(hexToBytes(opaque)), 'CallFailed (the call of proposal 1 reverted: 0xdeadbeef)')
    assert.equal(multisigRevertReason(new Uint8Array(0)), undefined)
    assert.equal(multisigRevertReason(hexToBytes('0xdeadbeef')), undefined)
  })

  test('every custom error of the contract has words', () => {
    for (const item of MULTISIG_ABI) {
      if (item.type !== 'error') continue
      const args = item.inputs.map((input) => (input.type === 'address' ? getAddress(hex(A)) : input.type === 'bytes' ? '0x' : 3n))
      const data = encodeErrorResult({ abi: [item], errorName: item.name, args } as Parameters<typeof encodeErrorResult>[0])
      const reason = multisigRevertReason(hexToBytes(data))
      assert.ok(reason !== undefined && reason.startsWith(`${item.name} (`) && !reason.includes('undefined'), `${item.name}: ${reason}`)
    }
  })
})
