import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createVM, type VM } from '@ethereumjs/vm'
import { Account, Address, createAddressFromString } from '@ethereumjs/util'
import {
  bytesToHex,
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
import {
  ContractArtifactError,
  PERMISSIONS_ABI,
  PERMISSIONS_ADDRESS,
  PermissionsCodecError,
  ProposalKind,
  SNAPSHOT_CALLDATA,
  decodePermissionsLog,
  decodeProposal,
  decodeProposeResult,
  decodeSnapshot,
  encodeExecute,
  encodeGetProposal,
  encodePropose,
  encodeVote,
  loadArtifact,
  permissionsInitCode,
  permissionsRevertReason,
  permissionsRuntimeCode,
} from '../../../src/contracts/index.ts'
import type { PermissionsInit, PermissionsLog, PermissionsSnapshot, ProposalInput } from '../../../src/contracts/index.ts'
import { hex, taggedAddress, words } from '../../helpers/addresses.ts'

const CONTRACT = createAddressFromString(PERMISSIONS_ADDRESS)
const GAS = 30_000_000n

const addr = (tag: number) => taggedAddress(0xee, tag)

const [A, B, C, D, E] = [1, 2, 3, 4, 5].map(addr) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]
const OUTSIDER = addr(0x99)
const V1 = addr(0x101)
const V2 = addr(0x102)
const V3 = addr(0x103)
const X = addr(0x201)
const Y = addr(0x202)
const PEER1 = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const PEER2 = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'

interface CallResult {
  reverted: boolean
  returnValue: Uint8Array
  reason: string | undefined
  logs: PermissionsLog[]
}

/** The permissions contract deployed the way genesis does, in a real ethereumjs VM. */
class Harness {
  constructor(readonly vm: VM) {}

  static deploy(init: PermissionsInit): Promise<Harness> {
    return Harness.create(permissionsInitCode(init))
  }

  /** runCode executes creation code as the account `to`; that account must exist first. */
  static async create(initCode: Uint8Array): Promise<Harness> {
    const vm = await createVM({ common: makeCommon(1n) })
    await vm.stateManager.putAccount(CONTRACT, new Account())
    const res = await vm.evm.runCode({ code: initCode, to: CONTRACT, caller: new Address(addr(0)), gasLimit: GAS })
    if (res.exceptionError !== undefined) {
      throw new Error(`constructor reverted: ${permissionsRevertReason(res.returnValue) ?? res.exceptionError.error}`)
    }
    await vm.stateManager.putCode(CONTRACT, res.returnValue)
    return new Harness(vm)
  }

  async call(from: Uint8Array, data: Uint8Array): Promise<CallResult> {
    const res = await this.vm.evm.runCall({ caller: new Address(from), to: CONTRACT, data, gasLimit: GAS })
    const r = res.execResult
    const logs = (r.logs ?? []).map(([address, topics, data]) => {
      assert.deepEqual(address, CONTRACT.bytes)
      const log = decodePermissionsLog(topics, data)
      assert.ok(log !== undefined, 'every log of the contract decodes')
      return log
    })
    const reverted = r.exceptionError !== undefined
    return { reverted, returnValue: r.returnValue, reason: reverted ? permissionsRevertReason(r.returnValue) : undefined, logs }
  }

  async ok(from: Uint8Array, data: Uint8Array): Promise<CallResult> {
    const r = await this.call(from, data)
    assert.equal(r.reverted, false, `call reverted: ${r.reason}`)
    return r
  }

  /** Asserts the call reverts and returns its reason in words. */
  async fails(from: Uint8Array, data: Uint8Array): Promise<string> {
    const r = await this.call(from, data)
    assert.equal(r.reverted, true, 'call should have reverted')
    assert.equal(r.logs.length, 0)
    assert.ok(r.reason !== undefined, 'revert has a decodable reason')
    return r.reason
  }

  async propose(from: Uint8Array, p: ProposalInput): Promise<{ id: bigint; executed: boolean; logs: PermissionsLog[] }> {
    const r = await this.ok(from, encodePropose(p))
    return { id: decodeProposeResult(r.returnValue), executed: r.logs.some((l) => l.event === 'Executed'), logs: r.logs }
  }

  async vote(from: Uint8Array, id: bigint): Promise<{ executed: boolean; logs: PermissionsLog[] }> {
    const r = await this.ok(from, encodeVote(id))
    return { executed: r.logs.some((l) => l.event === 'Executed'), logs: r.logs }
  }

  /** Proposes and has the given admins vote until it executes. */
  async pass(p: ProposalInput, proposer: Uint8Array, ...voters: Uint8Array[]): Promise<bigint> {
    const { id, executed } = await this.propose(proposer, p)
    let done = executed
    for (const v of voters) {
      assert.equal(done, false, 'executed before every listed voter voted')
      done = (await this.vote(v, id)).executed
    }
    assert.equal(done, true, 'proposal did not execute')
    return id
  }

  async snapshot(): Promise<PermissionsSnapshot> {
    return decodeSnapshot((await this.ok(OUTSIDER, SNAPSHOT_CALLDATA)).returnValue)
  }

  async proposal(id: bigint) {
    return decodeProposal((await this.ok(OUTSIDER, encodeGetProposal(id))).returnValue)
  }

  async view(functionName: 'isAllowedAccount' | 'isAdmin', account: Uint8Array): Promise<boolean>
  async view(functionName: 'isAllowedNode', node: string): Promise<boolean>
  async view(functionName: 'isAllowedAccount' | 'isAdmin' | 'isAllowedNode', arg: Uint8Array | string): Promise<boolean> {
    const data =
      functionName === 'isAllowedNode'
        ? encodeFunctionData({ abi: PERMISSIONS_ABI, functionName, args: [arg as string] })
        : encodeFunctionData({ abi: PERMISSIONS_ABI, functionName, args: [hex(arg as Uint8Array)] })
    const r = await this.ok(OUTSIDER, hexToBytes(data))
    return r.returnValue[31] === 1
  }
}

const fourAdmins = (over: Partial<PermissionsInit> = {}): PermissionsInit => ({
  admins: [A, B, C, D],
  validators: [
    { address: V1, power: 10n },
    { address: V2, power: 20n },
  ],
  accounts: null,
  nodes: null,
  ...over,
})
const oneAdmin = (over: Partial<PermissionsInit> = {}): PermissionsInit => ({ ...fourAdmins(over), admins: [A], ...over })

const hexes = (list: Uint8Array[]) => list.map(hex)
const validatorList = (s: PermissionsSnapshot) => s.validators.map((v) => [hex(v.address), v.power])

describe('Permissions deployment', () => {
  test('runCode deployment stores the runtime code and the snapshot equals the init', async () => {
    const h = await Harness.deploy({
      admins: [A, B],
      validators: [
        { address: V1, power: 7n },
        { address: V2, power: 9n },
      ],
      accounts: [X, Y],
      nodes: [PEER1, PEER2],
    })
    assert.deepEqual(await h.vm.stateManager.getCode(CONTRACT), permissionsRuntimeCode())
    const s = await h.snapshot()
    assert.equal(s.version, 0n)
    assert.deepEqual(hexes(s.admins), hexes([A, B]))
    assert.deepEqual(validatorList(s), [
      [hex(V1), 7n],
      [hex(V2), 9n],
    ])
    assert.equal(s.accountsRestricted, true)
    assert.deepEqual(hexes(s.accounts), hexes([X, Y]))
    assert.equal(s.nodesRestricted, true)
    assert.deepEqual(s.nodes, [PEER1, PEER2])
    const count = await h.ok(OUTSIDER, hexToBytes(encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'proposalCount' })))
    assert.equal(BigInt(bytesToHex(count.returnValue)), 0n)
  })

  test('null lists mean unrestricted and an empty validator set is allowed', async () => {
    const h = await Harness.deploy({ admins: [A], validators: [], accounts: null, nodes: null })
    const s = await h.snapshot()
    assert.deepEqual(s, {
      version: 0n,
      admins: [A],
      validators: [],
      accountsRestricted: false,
      accounts: [],
      nodesRestricted: false,
      nodes: [],
    })
  })

  test('the TypeScript ABI matches the compiled contract', () => {
    // Compare what matters for encoding: kinds, names, parameter types and names, mutability.
    type Item = { type: string; name?: string; inputs?: readonly AbiParameter[]; outputs?: readonly AbiParameter[]; stateMutability?: string }
    const params = (ps: readonly AbiParameter[] = []) => ps.map((p) => `${p.type} ${'indexed' in p && p.indexed ? 'indexed ' : ''}${p.name ?? ''}`).join(', ')
    const sigs = (abi: readonly Item[]) =>
      abi.map((i) => `${i.type} ${i.name ?? ''}(${params(i.inputs)}) ${i.stateMutability ?? ''} (${params(i.outputs)})`).sort()
    assert.deepEqual(sigs(PERMISSIONS_ABI), sigs(loadArtifact('Permissions').abi))
  })

  test('the constructor rejects bad genesis permissions with a reason', async () => {
    const reason = async (init: PermissionsInit): Promise<string> => {
      try {
        await Harness.deploy(init)
      } catch (err) {
        return (err as Error).message
      }
      assert.fail('constructor accepted the init')
    }
    assert.equal(await reason(oneAdmin({ admins: [A, B, A] })), `constructor reverted: ${words(A)} is already an admin`)
    assert.equal(await reason(oneAdmin({ admins: [A, new Uint8Array(20)] })), 'constructor reverted: the zero address is not allowed')
    assert.equal(
      await reason(oneAdmin({ validators: [{ address: V1, power: 1n }, { address: V1, power: 2n }] })),
      `constructor reverted: ${words(V1)} is already a validator`,
    )
    assert.equal(
      await reason(oneAdmin({ validators: [{ address: V1, power: 0n }] })),
      `constructor reverted: validator ${words(V1)} has zero power`,
    )
    assert.equal(await reason(oneAdmin({ accounts: [X, X] })), `constructor reverted: account ${words(X)} is already on the allowlist`)
    assert.equal(await reason(oneAdmin({ nodes: [PEER1, PEER1] })), `constructor reverted: node ${PEER1} is already on the allowlist`)
    assert.equal(await reason(oneAdmin({ nodes: [''] })), 'constructor reverted: invalid node id "": it must be 1 to 128 bytes')

    // Shapes the TypeScript encoder refuses, sent to the contract directly.
    const raw = (args: Parameters<typeof encodeDeployData<typeof PERMISSIONS_ABI>>[0]['args']) =>
      hexToBytes(encodeDeployData({ abi: PERMISSIONS_ABI, bytecode: loadArtifact('Permissions').bytecode, args }))
    await assert.rejects(Harness.create(raw([[], [], [], false, [], false, []])), /constructor reverted: at least one admin is required/)
    await assert.rejects(
      Harness.create(raw([[hex(A)], [hex(V1)], [], false, [], false, []])),
      /constructor reverted: 1 validators but 0 powers/,
    )
  })

  test('permissionsInitCode checks shapes before encoding', () => {
    assert.throws(() => permissionsInitCode(oneAdmin({ admins: [] })), (e: unknown) => e instanceof PermissionsCodecError && e.code === 'INVALID_INPUT')
    assert.throws(() => permissionsInitCode(oneAdmin({ admins: [new Uint8Array(19)] })), /admins\[0\] must be 20 bytes/)
    assert.throws(
      () => permissionsInitCode(oneAdmin({ validators: [{ address: V1, power: -1n }] })),
      /validators\[0\].power must be a uint256/,
    )
  })
})

describe('Permissions voting', () => {
  test('with 4 admins a proposal needs 3 votes and executes on the third', async () => {
    const h = await Harness.deploy(fourAdmins())
    const proposed = await h.propose(A, { kind: ProposalKind.AllowAccount, account: X })
    assert.equal(proposed.id, 1n)
    assert.equal(proposed.executed, false)
    assert.deepEqual(proposed.logs, [
      { event: 'Proposed', id: 1n, kind: ProposalKind.AllowAccount, proposer: A, account: X, power: 0n, node: '' },
      { event: 'Voted', id: 1n, voter: A, votes: 1n },
    ])

    const second = await h.vote(B, 1n)
    assert.deepEqual(second.logs, [{ event: 'Voted', id: 1n, voter: B, votes: 2n }])
    assert.equal((await h.snapshot()).accounts.length, 0, 'two of four is not a majority')
    assert.equal(await h.fails(B, encodeVote(1n)), `${words(B)} already voted for proposal 1`)
    assert.equal(await h.fails(A, encodeVote(1n)), `${words(A)} already voted for proposal 1`)

    const third = await h.vote(C, 1n)
    assert.deepEqual(third.logs, [
      { event: 'Voted', id: 1n, voter: C, votes: 3n },
      { event: 'Executed', id: 1n },
    ])
    const s = await h.snapshot()
    assert.deepEqual(hexes(s.accounts), [hex(X)])
    assert.equal(s.version, 1n)

    assert.deepEqual(await h.proposal(1n), {
      kind: ProposalKind.AllowAccount,
      account: X,
      power: 0n,
      node: '',
      votes: 3n,
      executed: true,
      proposer: A,
    })
    // No replay: neither a late voter nor a repeat voter can run it again.
    assert.equal(await h.fails(D, encodeVote(1n)), 'proposal 1 was already executed')
    assert.equal(await h.fails(C, encodeVote(1n)), 'proposal 1 was already executed')
    assert.equal(await h.fails(D, encodeExecute(1n)), 'proposal 1 was already executed')
    assert.equal((await h.snapshot()).version, 1n)
  })

  test('non-admins can neither propose nor vote; unknown proposals revert', async () => {
    const h = await Harness.deploy(fourAdmins())
    assert.equal(await h.fails(OUTSIDER, encodePropose({ kind: ProposalKind.AllowAccount, account: X })), `caller ${words(OUTSIDER)} is not an admin`)
    const { id } = await h.propose(A, { kind: ProposalKind.AllowAccount, account: X })
    assert.equal(await h.fails(OUTSIDER, encodeVote(id)), `caller ${words(OUTSIDER)} is not an admin`)
    assert.equal(await h.fails(B, encodeVote(0n)), 'there is no proposal 0')
    assert.equal(await h.fails(B, encodeVote(2n)), 'there is no proposal 2')
    assert.equal(await h.fails(OUTSIDER, encodeGetProposal(7n)), 'there is no proposal 7')
    assert.equal((await h.proposal(id)).votes, 1n)
  })

  test('with one admin a proposal executes at once; ids count up from 1', async () => {
    const h = await Harness.deploy(oneAdmin())
    const first = await h.propose(A, { kind: ProposalKind.AllowAccount, account: X })
    const second = await h.propose(A, { kind: ProposalKind.AllowAccount, account: Y })
    assert.deepEqual([first.id, first.executed, second.id, second.executed], [1n, true, 2n, true])
    assert.equal((await h.snapshot()).version, 2n)
  })

  test('execution re-checks validity: a stale proposal reverts, stays open, and can pass later', async () => {
    const h = await Harness.deploy(fourAdmins())
    const p1 = await h.propose(A, { kind: ProposalKind.AllowAccount, account: X })
    const p2 = await h.propose(B, { kind: ProposalKind.AllowAccount, account: X })
    await h.vote(C, p1.id)
    await h.vote(D, p1.id)
    await h.vote(C, p2.id)
    assert.equal(await h.fails(D, encodeVote(p2.id)), `account ${words(X)} is already on the allowlist`)
    // The failed vote left no trace.
    assert.deepEqual(
      { votes: (await h.proposal(p2.id)).votes, executed: (await h.proposal(p2.id)).executed },
      { votes: 2n, executed: false },
    )
    await h.pass({ kind: ProposalKind.DisallowAccount, account: X }, A, B, C)
    assert.equal((await h.vote(D, p2.id)).executed, true)
    assert.deepEqual(hexes((await h.snapshot()).accounts), [hex(X)])
    assert.equal((await h.snapshot()).version, 3n)
  })

  test('only current admins count: removed admins lose their votes, execute() runs a majority left behind', async () => {
    const h = await Harness.deploy(fourAdmins())
    const pending = await h.propose(A, { kind: ProposalKind.AllowAccount, account: X })
    await h.vote(B, pending.id) // 2 of 4
    const withD = await h.propose(D, { kind: ProposalKind.AllowAccount, account: Y })
    assert.equal(await h.fails(A, encodeExecute(pending.id)), `proposal ${pending.id} has 2 of 4 admin votes, not a majority`)

    await h.pass({ kind: ProposalKind.RemoveAdmin, account: D }, A, B, C)
    assert.equal((await h.proposal(withD.id)).votes, 0n, "D's vote went with D")
    assert.equal(await h.fails(D, encodeVote(withD.id)), `caller ${words(D)} is not an admin`)

    // 2 of the 3 remaining admins voted: a majority, but nobody is left to cast a vote.
    assert.equal((await h.proposal(pending.id)).executed, false)
    const r = await h.ok(C, encodeExecute(pending.id))
    assert.deepEqual(r.logs, [{ event: 'Executed', id: pending.id }])
    assert.deepEqual(hexes((await h.snapshot()).accounts), [hex(X)])
  })
})

describe('Permissions proposal kinds', () => {
  test('SetValidator adds, updates and removes (swap and pop) and never empties the set', async () => {
    const h = await Harness.deploy(oneAdmin({ validators: [{ address: V1, power: 10n }, { address: V2, power: 20n }] }))
    await h.pass({ kind: ProposalKind.SetValidator, account: V3, power: 30n }, A)
    assert.deepEqual(validatorList(await h.snapshot()), [
      [hex(V1), 10n],
      [hex(V2), 20n],
      [hex(V3), 30n],
    ])
    await h.pass({ kind: ProposalKind.SetValidator, account: V2, power: 25n }, A)
    await h.pass({ kind: ProposalKind.SetValidator, account: V1, power: 0n }, A)
    assert.deepEqual(validatorList(await h.snapshot()), [
      [hex(V3), 30n],
      [hex(V2), 25n],
    ])
    assert.equal(
      await h.fails(A, encodePropose({ kind: ProposalKind.SetValidator, account: V2, power: 25n })),
      `validator ${words(V2)} already has power 25`,
    )
    assert.equal(
      await h.fails(A, encodePropose({ kind: ProposalKind.SetValidator, account: V1, power: 0n })),
      `${words(V1)} is not a validator`,
    )
    await h.pass({ kind: ProposalKind.SetValidator, account: V3, power: 0n }, A)
    assert.equal(
      await h.fails(A, encodePropose({ kind: ProposalKind.SetValidator, account: V2, power: 0n })),
      `cannot remove ${words(V2)}: it is the last validator`,
    )
    const s = await h.snapshot()
    assert.deepEqual(validatorList(s), [[hex(V2), 25n]])
    assert.equal(s.version, 4n)
  })

  test('a chain without validators may add the first one', async () => {
    const h = await Harness.deploy(oneAdmin({ validators: [] }))
    await h.pass({ kind: ProposalKind.SetValidator, account: V1, power: 1n }, A)
    assert.deepEqual(validatorList(await h.snapshot()), [[hex(V1), 1n]])
  })

  test('AllowAccount / DisallowAccount and RestrictAccounts drive isAllowedAccount', async () => {
    const h = await Harness.deploy(fourAdmins())
    // Not restricted: anyone may send.
    assert.equal(await h.view('isAllowedAccount', OUTSIDER), true)
    await h.pass({ kind: ProposalKind.AllowAccount, account: X }, A, B, C)
    await h.pass({ kind: ProposalKind.AllowAccount, account: Y }, A, B, C)
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.AllowAccount, account: X })), `account ${words(X)} is already on the allowlist`)
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.DisallowAccount, account: OUTSIDER })), `account ${words(OUTSIDER)} is not on the allowlist`)
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.RestrictAccounts, power: 0n })), 'accounts are already unrestricted')

    await h.pass({ kind: ProposalKind.RestrictAccounts, power: 1n }, A, B, C)
    let s = await h.snapshot()
    assert.equal(s.accountsRestricted, true)
    assert.equal(await h.view('isAllowedAccount', OUTSIDER), false)
    assert.equal(await h.view('isAllowedAccount', X), true)
    assert.equal(await h.view('isAllowedAccount', D), true, 'admins may always send')
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.RestrictAccounts, power: 5n })), 'accounts are already restricted')

    await h.pass({ kind: ProposalKind.DisallowAccount, account: X }, A, B, C)
    s = await h.snapshot()
    assert.deepEqual(hexes(s.accounts), [hex(Y)])
    assert.equal(await h.view('isAllowedAccount', X), false)
    assert.equal(await h.view('isAllowedAccount', Y), true)

    await h.pass({ kind: ProposalKind.RestrictAccounts, power: 0n }, A, B, C)
    s = await h.snapshot()
    assert.equal(s.accountsRestricted, false)
    assert.equal(await h.view('isAllowedAccount', X), true)
    assert.equal(s.version, 5n)
  })

  test('AllowNode / DisallowNode and RestrictNodes drive isAllowedNode', async () => {
    const h = await Harness.deploy(oneAdmin())
    assert.equal(await h.view('isAllowedNode', PEER1), true)
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.RestrictNodes, power: 1n })), 'cannot restrict nodes while the node allowlist is empty')
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.AllowNode, node: '' })), 'invalid node id "": it must be 1 to 128 bytes')
    const long = 'x'.repeat(129)
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.AllowNode, node: long })), `invalid node id "${long}": it must be 1 to 128 bytes`)
    await h.pass({ kind: ProposalKind.AllowNode, node: 'y'.repeat(128) }, A)
    await h.pass({ kind: ProposalKind.AllowNode, node: PEER1 }, A)
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.AllowNode, node: PEER1 })), `node ${PEER1} is already on the allowlist`)
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.DisallowNode, node: PEER2 })), `node ${PEER2} is not on the allowlist`)

    await h.pass({ kind: ProposalKind.RestrictNodes, power: 1n }, A)
    assert.equal(await h.view('isAllowedNode', PEER1), true)
    assert.equal(await h.view('isAllowedNode', PEER2), false)
    await h.pass({ kind: ProposalKind.DisallowNode, node: 'y'.repeat(128) }, A)
    let s = await h.snapshot()
    assert.equal(s.nodesRestricted, true)
    assert.deepEqual(s.nodes, [PEER1])
    assert.equal(
      await h.fails(A, encodePropose({ kind: ProposalKind.DisallowNode, node: PEER1 })),
      `cannot remove node ${PEER1}: it is the last allowed node while nodes are restricted`,
    )

    await h.pass({ kind: ProposalKind.RestrictNodes, power: 0n }, A)
    assert.equal(await h.view('isAllowedNode', PEER2), true)
    await h.pass({ kind: ProposalKind.DisallowNode, node: PEER1 }, A)
    s = await h.snapshot()
    assert.deepEqual([s.nodesRestricted, s.nodes], [false, []])
    assert.equal(s.version, 6n)
  })

  test('AddAdmin / RemoveAdmin move the majority threshold with the admin count', async () => {
    const h = await Harness.deploy(oneAdmin())
    await h.pass({ kind: ProposalKind.AddAdmin, account: B }, A) // 1 of 1
    await h.pass({ kind: ProposalKind.AddAdmin, account: C }, A, B) // 2 of 2 needed
    await h.pass({ kind: ProposalKind.AddAdmin, account: D }, B, C) // 2 of 3
    await h.pass({ kind: ProposalKind.AddAdmin, account: E }, D, A, C) // 3 of 4
    assert.deepEqual(hexes((await h.snapshot()).admins), hexes([A, B, C, D, E]))
    assert.equal(await h.view('isAdmin', E), true)
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.AddAdmin, account: C })), `${words(C)} is already an admin`)
    assert.equal(await h.fails(A, encodePropose({ kind: ProposalKind.RemoveAdmin, account: X })), `${words(X)} is not an admin`)

    await h.pass({ kind: ProposalKind.RemoveAdmin, account: B }, E, D, C) // 3 of 5; E moves into B's slot
    assert.deepEqual(hexes((await h.snapshot()).admins), hexes([A, E, C, D]))
    assert.equal(await h.view('isAdmin', B), false)
    assert.equal(await h.fails(B, encodePropose({ kind: ProposalKind.AllowAccount, account: X })), `caller ${words(B)} is not an admin`)
    await h.pass({ kind: ProposalKind.RemoveAdmin, account: A }, A, C, D) // 3 of 4
    await h.pass({ kind: ProposalKind.RemoveAdmin, account: E }, E, C) // 2 of 3
    await h.pass({ kind: ProposalKind.RemoveAdmin, account: D }, C, D) // 2 of 2
    const s = await h.snapshot()
    assert.deepEqual(hexes(s.admins), [hex(C)])
    assert.equal(s.version, 8n)
    assert.equal(
      await h.fails(C, encodePropose({ kind: ProposalKind.RemoveAdmin, account: C })),
      `cannot remove ${words(C)}: it is the last admin`,
    )
  })

  test('proposals are checked when made: kind, zero address and unused fields', async () => {
    const h = await Harness.deploy(oneAdmin())
    const propose = (kind: number, account: Uint8Array, power: bigint, node: string) =>
      hexToBytes(encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'propose', args: [kind, hex(account), power, node] }))
    const zero = new Uint8Array(20)
    assert.equal(await h.fails(A, propose(9, zero, 0n, '')), 'unknown proposal kind 9')
    assert.equal(await h.fails(A, propose(ProposalKind.AddAdmin, zero, 0n, '')), 'the zero address is not allowed')
    const unused = 'a AddAdmin proposal must leave the fields it does not use empty'
    assert.equal(await h.fails(A, propose(ProposalKind.AddAdmin, B, 1n, '')), unused)
    assert.equal(await h.fails(A, propose(ProposalKind.AddAdmin, B, 0n, 'n')), unused)
    assert.equal(
      await h.fails(A, propose(ProposalKind.RestrictNodes, B, 1n, '')),
      'a RestrictNodes proposal must leave the fields it does not use empty',
    )
    assert.equal((await h.snapshot()).version, 0n)
    const count = await h.ok(A, hexToBytes(encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'proposalCount' })))
    assert.equal(BigInt(bytesToHex(count.returnValue)), 0n, 'rejected proposals get no id')
  })
})

describe('Permissions codec', () => {
  test('encodePropose accepts hex or bytes accounts and rejects bad input', () => {
    assert.deepEqual(
      encodePropose({ kind: ProposalKind.AllowAccount, account: hex(X) }),
      encodePropose({ kind: ProposalKind.AllowAccount, account: X }),
    )
    assert.deepEqual(
      encodePropose({ kind: ProposalKind.AllowAccount, account: getAddress(hex(X)) }),
      encodePropose({ kind: ProposalKind.AllowAccount, account: X }),
    )
    assert.throws(() => encodePropose({ kind: ProposalKind.AllowAccount, account: new Uint8Array(32) }), /account must be 20 bytes/)
    assert.throws(() => encodePropose({ kind: ProposalKind.AllowAccount, account: '0x1234' }), /account is not an address/)
    assert.throws(() => encodePropose({ kind: 12 as ProposalKind }), /unknown proposal kind 12/)
    assert.throws(() => encodeVote(-1n), PermissionsCodecError)
    assert.deepEqual(SNAPSHOT_CALLDATA, hexToBytes(encodeFunctionData({ abi: PERMISSIONS_ABI, functionName: 'snapshot' })))
  })

  test('decoders reject malformed return data with a typed error', () => {
    assert.throws(() => decodeSnapshot(new Uint8Array(5)), (e: unknown) => e instanceof PermissionsCodecError && e.code === 'INVALID_RETURN_DATA')
    assert.throws(() => decodeProposal(new Uint8Array(0)), /cannot decode getProposal\(\)/)
  })

  test('decodePermissionsLog ignores logs of other events', () => {
    // ERC-20 Transfer(address,address,uint256)
    const topic = hexToBytes('0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef')
    assert.equal(decodePermissionsLog([topic, new Uint8Array(32), new Uint8Array(32)], new Uint8Array(32)), undefined)
    assert.equal(decodePermissionsLog([], new Uint8Array(0)), undefined)
  })

  test('permissionsRevertReason decodes Error(string), Panic and custom errors; undefined otherwise', () => {
    const errorString = encodeErrorResult({ abi: parseAbi(['error Error(string)']), errorName: 'Error', args: ['not today'] })
    assert.equal(permissionsRevertReason(hexToBytes(errorString)), 'not today')
    const panic = hexToBytes(`0x4e487b71${encodeAbiParameters([{ type: 'uint256' }], [0x11n]).slice(2)}`)
    assert.equal(permissionsRevertReason(panic), 'panic: arithmetic overflow or underflow')
    const custom = encodeErrorResult({ abi: PERMISSIONS_ABI, errorName: 'LastValidator', args: [getAddress(hex(V1))] })
    assert.equal(permissionsRevertReason(hexToBytes(custom)), `cannot remove ${words(V1)}: it is the last validator`)
    assert.equal(permissionsRevertReason(new Uint8Array(0)), undefined)
    assert.equal(permissionsRevertReason(hexToBytes('0xdeadbeef')), undefined)
  })

  test('every custom error of the contract has words', () => {
    for (const item of PERMISSIONS_ABI) {
      if (item.type !== 'error') continue
      const args = item.inputs.map((input) =>
        input.type === 'address' ? getAddress(hex(X)) : input.type === 'string' ? 'n' : input.type === 'bool' ? true : input.type === 'uint8' ? 7 : 3n,
      )
      const data = encodeErrorResult({ abi: [item], errorName: item.name, args } as Parameters<typeof encodeErrorResult>[0])
      const reason = permissionsRevertReason(hexToBytes(data))
      assert.ok(reason !== undefined && reason.length > 0 && !reason.includes('undefined'), `${item.name}: ${reason}`)
    }
  })

  test('loadArtifact explains how to build a missing artifact', () => {
    assert.throws(
      () => loadArtifact('NoSuchContract'),
      (e: unknown) => e instanceof ContractArtifactError && e.code === 'ARTIFACT_MISSING' && /npm run build:contracts/.test(e.message),
    )
    assert.equal(loadArtifact('Permissions'), loadArtifact('Permissions'), 'cached')
  })
})
