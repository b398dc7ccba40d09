/**
 * PoH light verification over a real PoH chain built in-process (test/helpers/poh.ts: blocks
 * made as their leader makes them, imported by the real PohRules, votes signed by the
 * validators' test keys and carried in later seals). The stakes come from the staking
 * contract's snapshot() run over each block's real state (start.ts proves that state against
 * the header instead; test/integration covers the proofs). Shown: an honest chain is followed
 * and its headers join once votes of more than 2/3 of the stake confirm them, across epochs
 * whose schedules need a stake read; a wrong PoH, a wrong leader, a bad signature are refused;
 * votes of exactly 2/3, or for another block at the slot, confirm nothing; roots give
 * `finalized`; with bodies the slot's hashes are re-hashed too.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, privateToAddress } from '@ethereumjs/util'
import pino from 'pino'
import { blockHash, type Block, type BlockHeader } from '../../../../src/chain/block.ts'
import { BlockError } from '../../../../src/chain/errors.ts'
import type { ChainSpec, PohEngineSpec } from '../../../../src/chain/spec/index.ts'
import { decodePohSeal, encodePohSeal } from '../../../../src/consensus/poh-engine/seal.ts'
import { encodePohVote, signPohVote } from '../../../../src/consensus/poh/index.ts'
import { STAKING_ADDRESS, encodeStake } from '../../../../src/contracts/index.ts'
import { callSystemContract } from '../../../../src/execution/system-contracts.ts'
import type { SnapshotReader } from '../../../../src/sync/light/bft-membership.ts'
import { LightHeaderChain } from '../../../../src/sync/light/header-chain.ts'
import type { HeaderSource } from '../../../../src/sync/light/header-source.ts'
import { PohHeaderFollow, PohLightRules } from '../../../../src/sync/light/poh-follow.ts'
import { lightRules } from '../../../../src/sync/light/start.ts'
import { KEYS, Signer } from '../../../helpers/chain.ts'
import { makePohBlock, openPohChain, pohSpec, type PohTestChain } from '../../../helpers/poh.ts'

const ETH = 10n ** 18n
const silent = pino({ level: 'silent' })
const opened: PohTestChain[] = []
after(async () => {
  for (const t of opened) await t.verifier.close()
})

/**
 * Four validators staking 40, 20, 20 and 10 ETH: 0+1 hold exactly 2/3, 0+1+3 more. Txs run in
 * order (no access lists to declare for a stake() call).
 */
async function openChain(): Promise<PohTestChain> {
  const validators = [40n, 20n, 20n, 10n].map((s, i) => ({ address: bytesToHex(privateToAddress(KEYS[i]!)), stake: (s * ETH).toString() }))
  const spec = pohSpec(4, { validators })
  const t = await openPohChain({ ...spec, execution: { ...spec.execution, parallel: false } })
  opened.push(t)
  return t
}

function vote(t: PohTestChain, i: number, slot: bigint, hash: Uint8Array, root: bigint | null = null): Uint8Array {
  const v = { voter: privateToAddress(KEYS[i]!), slot, hash, lockouts: [{ slot, confirmationCount: 1 }], root, timestamp: 1_700_000_000n }
  return encodePohVote(signPohVote(v, KEYS[i]!, t.spec.chainId))
}

const slotOf = (h: BlockHeader) => (h.height === 0n ? 0n : decodePohSeal(h.seal).slot)

interface Grow {
  /** Validators whose votes for the parent the block at `slot` carries (default: all four). */
  voters?: (slot: bigint) => number[]
  root?: (slot: bigint) => bigint | null
}

/** Imports a block at each slot, each carrying votes for its parent. */
async function grow(t: PohTestChain, slots: bigint[], o: Grow = {}): Promise<void> {
  for (const slot of slots) {
    const parent = t.chain.head
    const votes = parent.header.height === 0n ? [] : (o.voters?.(slot) ?? [0, 1, 2, 3]).map((i) => vote(t, i, slotOf(parent.header), parent.hash, o.root?.(slot) ?? null))
    await t.importer.importBlock(await makePohBlock(t, { slot, votes }))
  }
}

function headersOf(t: PohTestChain): BlockHeader[] {
  const out: BlockHeader[] = []
  for (let h = 0n; h <= t.chain.head.header.height; h++) out.push(t.chain.getHeader(t.chain.getHashAt(h)!)!)
  return out
}

function sourceOf(headers: BlockHeader[]): HeaderSource {
  return {
    url: 'test-source',
    headNumber: async () => BigInt(headers.length - 1),
    headers: async (from, to) => headers.slice(Number(from), Number(to) + 1),
    headerByHash: async (hash) => headers.find((h) => bytesToHex(blockHash(h)) === bytesToHex(hash)),
    finalityProof: async () => null,
  }
}

interface Light {
  chain: LightHeaderChain
  rules: PohLightRules
  follow: PohHeaderFollow
  reads: bigint[]
}

/** A light client's chain and follower over `t`'s genesis; stakes by snapshot() over the real state of each block read. */
function light(t: PohTestChain, opts: { txHashes?: boolean } = {}): Light {
  const spec = t.spec as ChainSpec & { engine: PohEngineSpec }
  const rules = lightRules(spec) as PohLightRules
  assert.ok(rules instanceof PohLightRules)
  const g = t.chain.getHeader(t.chain.genesisHash)!
  const chain = new LightHeaderChain(spec, rules, { hash: t.chain.genesisHash, header: g, work: 0n })
  const reads: bigint[] = []
  const read: SnapshotReader = async (at, contract, data) => {
    reads.push(at.header.height)
    const state = t.executor.overlayAt(at.header.stateRoot)
    return t.executor.withVM(state, (vm) => callSystemContract(vm.evm, state, contract, data), at.header.height)
  }
  const txHashes = opts.txHashes ? async (l: { hash: Uint8Array }) => t.chain.getBlock(l.hash)?.txs.map((tx) => tx.hash()) ?? [] : undefined
  const follow = new PohHeaderFollow({ chain, spec, read, rules, log: silent, ...(txHashes ? { txHashes } : {}) })
  return { chain, rules, follow, reads }
}

async function sync(l: Light, headers: BlockHeader[]): Promise<number> {
  return l.follow.syncFrom(sourceOf(headers), BigInt(headers.length - 1), 20_000n)
}

async function refused(l: Light, headers: BlockHeader[], code: string, message: RegExp): Promise<void> {
  await assert.rejects(sync(l, headers), (err: Error) => {
    assert.ok(err instanceof BlockError, `a BlockError, got ${err.name}: ${err.message}`)
    assert.equal(err.code, code, err.message)
    assert.match(err.message, message)
    return true
  })
}

/** `block` with its header changed by `f` (the seal re-signed or not, as the caller does). */
const withHeader = (b: Block, f: (h: BlockHeader) => BlockHeader): BlockHeader => f(b.header)

describe('PoH light client', () => {
  test('an honest chain is followed: headers join once more than 2/3 of the stake voted, across epochs', async () => {
    const t = await openChain()
    // Epochs of 32 slots: epoch 3's schedule is drawn from the stakes read in epoch 1's first block (slot 33).
    await grow(t, [1n, 2n, 3n, 5n, 30n, 33n, 40n, 63n, 65n, 70n, 96n, 100n, 101n])
    const headers = headersOf(t)
    const l = light(t)
    const added = await sync(l, headers)
    // The last block's votes are in no block yet: it is checked, not served.
    assert.equal(added, headers.length - 2)
    assert.equal(bytesToHex(l.chain.head.hash), bytesToHex(blockHash(headers[headers.length - 2]!)))
    const status = l.follow.status()
    assert.equal(status.unconfirmedAbove, 1)
    assert.equal(status.confirmedSlot, 100)
    // Genesis (epochs 0-2: its stakes) and slot 33's block (epoch 3), each read once.
    assert.deepEqual(l.reads, [0n, BigInt(headers.findIndex((h) => slotOf(h) === 33n))])
    // No roots in these votes: nothing finalized beyond genesis; safe is the head.
    assert.deepEqual(l.rules.finality(l.chain.head.header.height), { finalized: 0n, safe: l.chain.head.header.height })
    // The next block's votes confirm the last one, checked in the round before.
    await grow(t, [102n])
    assert.equal(await sync(l, headersOf(t)), 1)
    assert.equal(l.chain.head.header.height, BigInt(headers.length - 1))
  })

  test('after a restart (confirmed headers reloaded as the datadir does) it goes on, across an epoch read', async () => {
    const t = await openChain()
    await grow(t, [1n, 2n, 30n, 33n, 40n, 63n, 65n])
    const first = light(t)
    await sync(first, headersOf(t))
    const kept = first.chain.head.header.height
    assert.equal(kept, 6n)
    // A new client: the kept headers are put back by extendFinal (store.ts), its follower starts empty.
    const again = light(t)
    again.chain.extendFinal(headersOf(t).slice(1, Number(kept) + 1))
    await grow(t, [96n, 97n])
    assert.equal(await sync(again, headersOf(t)), 2)
    assert.equal(again.follow.status().confirmedSlot, 96)
    // Slot 65's block (epoch 2: genesis stakes), then epoch 3's stakes, read after slot 33's reloaded block.
    assert.deepEqual(again.reads, [0n, BigInt(headersOf(t).findIndex((h) => slotOf(h) === 33n))])
  })

  test('stakes come from the block where the node reads them: a later change waits for the next read', async () => {
    const t = await openChain()
    const signer = new Signer(t.common)
    const stakeTx = (from: number, eth: bigint) => signer.transfer(from, STAKING_ADDRESS, eth * ETH, { data: encodeStake(), gasLimit: 300_000n })
    // Validator 3 bonds 990 ETH more in epoch 0: read after slot 33's block (epoch 1's first), in force for epoch 3.
    await grow(t, [1n, 2n, 3n])
    await t.importer.importBlock(await makePohBlock(t, { slot: 5n, txs: [stakeTx(3, 990n)], votes: [0, 1, 2, 3].map((i) => vote(t, i, 3n, t.chain.head.hash)) }))
    await grow(t, [30n, 33n])
    // Validator 1 bonds 5000 ETH after that read (slot 40): not in epoch 3's stakes (epoch 3's boundary block is slot 63's).
    await t.importer.importBlock(await makePohBlock(t, { slot: 40n, txs: [stakeTx(1, 5000n)], votes: [0, 1, 2, 3].map((i) => vote(t, i, 33n, t.chain.head.hash)) }))
    await grow(t, [63n, 65n, 70n])
    // Epoch 3: validator 3 alone holds 1000 of 1080 ETH and alone votes (stakes read at slot 63 would make it 1000 of 6080).
    await grow(t, [96n, 100n, 101n], { voters: () => [3] })
    const headers = headersOf(t)
    for (const slot of [5n, 40n]) assert.equal(t.chain.getReceipts(blockHash(headers.find((h) => slotOf(h) === slot)!))![0]!.status, 1, `the stake tx of slot ${slot} ran`)
    const l = light(t)
    await sync(l, headers)
    assert.equal(l.follow.status().confirmedSlot, 100)
    assert.deepEqual(l.reads, [0n, BigInt(headers.findIndex((h) => slotOf(h) === 33n))])
  })

  test('a header whose PoH does not continue its parent, or whose ticks are off, is refused', async () => {
    const t = await openChain()
    await grow(t, [1n, 2n, 3n])
    const honest = headersOf(t)
    const badStart = await makePohBlock(t, { slot: 4n, seal: (s) => ({ ...s, pohStart: new Uint8Array(32).fill(7) }) })
    await refused(light(t), [...honest, badStart.header], 'BAD_POH', /does not start where the parent's ends/)
    const fewerTicks = await makePohBlock(t, { slot: 4n, entries: (e) => e.slice(0, -1) })
    await refused(light(t), [...honest, fewerTicks.header], 'BAD_POH', /ticks/)
    // One hash moved between the first two ticks: counts right, spacing wrong (seen in the seal, no hashing).
    const spacing = await makePohBlock(t, { slot: 4n, entries: (e) => e.map((x, i) => (i === 0 ? { ...x, numHashes: x.numHashes - 1 } : i === 1 ? { ...x, numHashes: x.numHashes + 1 } : x)) })
    await refused(light(t), [...honest, spacing.header], 'BAD_POH', /tick at entry 0/)
    // What came before the bad header and is confirmed still joins.
    const l = light(t)
    await refused(l, [...honest, badStart.header], 'BAD_POH', /does not start/)
    assert.equal(l.chain.head.header.height, 2n)
  })

  test('a wrong hash inside the slot is caught only by re-hashing (opt-in, with the bodies)', async () => {
    const t = await openChain()
    await grow(t, [1n])
    const signer = new Signer(t.common)
    const txs = [0, 1, 2].map(() => signer.transfer(5, `0x${'ab'.repeat(20)}`, 1n))
    await t.importer.importBlock(await makePohBlock(t, { slot: 2n, txs, votes: [0, 1, 2, 3].map((i) => vote(t, i, 1n, t.chain.head.hash)) }))
    assert.equal(t.chain.head.header.height, 2n)
    const flipped = await makePohBlock(t, { slot: 3n, entries: (e) => e.map((x, i) => (i === 2 ? { ...x, hash: Uint8Array.from(x.hash, (b, j) => (j === 0 ? b ^ 1 : b)) } : x)) })
    const headers = [...headersOf(t), flipped.header]
    // Without bodies the seal is consistent: the light client leaves the hashes to the voters.
    const plain = light(t)
    await sync(plain, headers)
    assert.equal(plain.chain.head.header.height, 1n)
    assert.equal(plain.follow.status().unconfirmedAbove, 2)
    const rehash = light(t, { txHashes: true })
    await refused(rehash, headers, 'BAD_POH', /PoH of slot 3/)
    // Slots 1 and 2 (with its 3 txs from the body) re-hashed and passed; slot 1 joined.
    assert.equal(rehash.follow.status().slotsRehashed, 2)
    assert.equal(rehash.chain.head.header.height, 1n)
  })

  test('a block by a validator that does not lead its slot, or not signed by its producer, is refused', async () => {
    const t = await openChain()
    await grow(t, [1n, 2n])
    const honest = headersOf(t)
    const leader = t.rules.leaderOf(3n, t.chain.head.hash)
    const other = KEYS.slice(0, 4).find((k) => bytesToHex(privateToAddress(k)) !== bytesToHex(leader))!
    await refused(light(t), [...honest, (await makePohBlock(t, { slot: 3n, key: other })).header], 'BAD_SEAL', /is led by/)
    const block = await makePohBlock(t, { slot: 3n })
    const seal = decodePohSeal(block.header.seal)
    const badSig = withHeader(block, (h) => ({ ...h, seal: encodePohSeal({ ...seal, signature: Uint8Array.from(seal.signature, (b, i) => (i === 10 ? b ^ 1 : b)) }) }))
    await refused(light(t), [...honest, badSig], 'BAD_SEAL', /signed by|signature/)
    // A field changed after signing: the signature no longer recovers to the leader.
    const changed = withHeader(block, (h) => ({ ...h, extraData: Uint8Array.of(1) }))
    await refused(light(t), [...honest, changed], 'BAD_SEAL', /signed by|signature/)
    // The honest block passes the same checks.
    await t.importer.importBlock(block)
    await grow(t, [4n])
    const l = light(t)
    await sync(l, headersOf(t))
    assert.equal(l.chain.head.header.height, 3n)
  })

  test('votes of exactly 2/3 of the stake confirm nothing; one more validator does', async () => {
    const t = await openChain()
    // Validators 0 and 1: 60 of 90 ETH.
    await grow(t, [1n, 2n, 3n, 4n, 5n, 6n], { voters: () => [0, 1] })
    const l = light(t)
    assert.equal(await sync(l, headersOf(t)), 0)
    assert.equal(l.chain.head.header.height, 0n)
    assert.equal(l.follow.status().unconfirmedAbove, 6)
    // Slot 7's block adds validator 3's vote for slot 6: 70 of 90.
    await grow(t, [7n], { voters: () => [0, 1, 3] })
    assert.equal(await sync(l, headersOf(t)), 6)
    assert.equal(slotOf(l.chain.head.header), 6n)
  })

  test('votes for another block at the slot do not count for the followed one', async () => {
    const t = await openChain()
    await grow(t, [1n, 2n])
    const head = t.chain.head
    const other = new Uint8Array(32).fill(9) // a block of slot 2 on some other branch
    const votes = [0, 1, 2, 3].map((i) => vote(t, i, 2n, other))
    await t.importer.importBlock(await makePohBlock(t, { slot: 3n, votes }))
    const l = light(t)
    await sync(l, headersOf(t))
    // Slot 1's block was confirmed by the votes in slot 2's block; slot 2's block by none.
    assert.equal(l.chain.head.header.height, 1n)
    assert.notEqual(bytesToHex(l.chain.head.hash), bytesToHex(head.hash))
  })

  test('roots carried by more than 2/3 of the stake make a block finalized', async () => {
    const t = await openChain()
    await grow(t, [1n, 2n, 3n])
    // From slot 4 on, every vote carries root 2 (slot 2's block); only 0 and 1 (exactly 2/3) at first.
    await grow(t, [4n, 5n], { root: () => 2n, voters: (s) => (s === 4n ? [0, 1] : [0, 1, 2, 3]) })
    const l = light(t)
    await sync(l, headersOf(t))
    assert.equal(l.chain.head.header.height, 4n)
    assert.deepEqual(l.rules.finality(4n), { finalized: 2n, safe: 4n })
    assert.equal(l.follow.status().rootedSlot, 2)
  })
})
