/**
 * A light client's PoW header chain against real mined headers (easy target, real double
 * SHA-256 proofs, Bitcoin's retarget every 10 blocks so the bits rule is exercised): a full
 * node's chain verifies header by header; a header with a bad proof, lowered bits, a future
 * time or an unknown parent is refused with the rule's error, and the headers before it stay;
 * of two sources, the chain with more work is the head whatever the order they came in, and a
 * longer chain with less work loses.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { blockHash, encodeHeader, type BlockHeader } from '../../../../src/chain/block.ts'
import { parseChainSpec, type ChainSpec } from '../../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../../src/chain/spec/presets.ts'
import { powHash } from '../../../../src/consensus/pow/pow-hash.ts'
import { PowRules } from '../../../../src/consensus/pow/rules.ts'
import { decodePowSeal, encodePowSeal, sealHash } from '../../../../src/consensus/pow/seal.ts'
import { compactToTarget, targetToCompact } from '../../../../src/consensus/pow/target.ts'
import { LightHeaderChain } from '../../../../src/sync/light/header-chain.ts'
import { LightHeaderStore } from '../../../../src/sync/light/store.ts'
import { ancestorWindow, fetchCheckpoint } from '../../../../src/sync/light/checkpoint.ts'
import type { HeaderSource } from '../../../../src/sync/light/header-source.ts'
import { BlockError } from '../../../../src/chain/errors.ts'
import { LevelStore, heightKey } from '../../../../src/storage/index.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openTestChain, type TestChain } from '../../../helpers/chain.ts'

const EASY = targetToCompact((1n << 256n) / 8n) // ~8 attempts a block
const T0 = 1_700_000_000n

function specWith(): ChainSpec {
  const json = presetJSON('bitcoin-like')!
  json.engine = { type: 'pow', initialBits: EASY, powLimitBits: targetToCompact((1n << 256n) / 2n), retarget: { kind: 'bitcoin', interval: 10 }, coinbaseMaturity: 0, maxReorgDepth: 1000 } as typeof json.engine
  json.blockTimeMs = 60_000
  return parseChainSpec(json)
}

/** Grinds the nonce in-process until the real proof of work holds. */
function mine(header: BlockHeader, bits: number): BlockHeader {
  const target = compactToTarget(bits)
  const sh = sealHash({ ...header, seal: new Uint8Array(0) })
  for (let nonce = 0n; ; nonce++) {
    const h = powHash(sh, bits, nonce)
    if (BigInt(bytesToHex(h)) <= target) return { ...header, seal: encodePowSeal({ bits, nonce }) }
  }
}

interface FullNode {
  t: TestChain
  rules: PowRules
}

async function fullNode(spec: ChainSpec): Promise<FullNode> {
  const view = { getHeader: (h: Uint8Array) => node.t.chain.getHeader(h), getHashAt: (h: bigint) => node.t.chain.getHashAt(h) }
  const rules = new PowRules(spec.engine as never, spec.blockTimeMs, view, () => T0 + 1_000_000n)
  const node = { t: await openTestChain({ spec, engine: rules }), rules } as FullNode
  return node
}

/** Mines `n` blocks on `node`, `spacing` seconds apart; returns their headers. */
async function mineBlocks(node: FullNode, n: number, spacing: bigint): Promise<BlockHeader[]> {
  const out: BlockHeader[] = []
  for (let i = 0; i < n; i++) {
    const parent = node.t.chain.head
    const bits = node.rules.expectedBits(parent.hash, parent.header)
    const r = await node.t.importer.produce({
      timestamp: parent.header.timestamp + spacing,
      producer: new Uint8Array(20),
      seal: async (h) => mine(h, bits),
      source: { next: () => undefined, skipSender: () => {} },
    })
    out.push(r.imported.block.header)
  }
  return out
}

function lightClient(spec: ChainSpec, genesis: FullNode): LightHeaderChain {
  const g = genesis.t.chain.getHeader(genesis.t.chain.getHashAt(0n)!)!
  const rules = new PowRules(spec.engine as never, spec.blockTimeMs, { getHeader: () => undefined, getHashAt: () => undefined }, () => T0 + 1_000_000n)
  return new LightHeaderChain(spec, rules, { hash: blockHash(g), header: g, work: 0n }, () => T0 + 1_000_000n)
}

describe('light client: PoW headers', () => {
  test("a full node's chain verifies; the head and its work match the full node's", async () => {
    const spec = specWith()
    const full = await fullNode(spec)
    const headers = await mineBlocks(full, 25, 60n) // crosses two retargets
    const light = lightClient(spec, full)
    const out = light.add(headers)
    assert.equal(out.added, 25)
    assert.equal(out.head, true)
    assert.equal(bytesToHex(light.head.hash), bytesToHex(full.t.chain.head.hash))
    assert.equal(light.head.work, full.t.chain.getWork(full.t.chain.head.hash))
    assert.equal(bytesToHex(light.at(10n)!.hash), bytesToHex(full.t.chain.getHashAt(10n)!))
    assert.equal(light.add(headers.slice(5, 9)).added, 0, 'headers seen before are not checked again')
  })

  test('bad proof, lowered bits, a time too far ahead, an unknown parent: refused, the headers before kept', async () => {
    const spec = specWith()
    const full = await fullNode(spec)
    const headers = await mineBlocks(full, 6, 60n)
    const cases: Array<[string, (h: BlockHeader) => BlockHeader, RegExp]> = [
      ['a nonce that does not meet the target', (h) => badNonce(h), /proof of work|target|BAD_POW|pow/i],
      ['bits easier than the retarget rule gives', (h) => mine({ ...h, seal: new Uint8Array(0) }, targetToCompact((1n << 256n) / 2n)), /bits/i],
      ['a timestamp far in the future', (h) => mine({ ...h, timestamp: T0 + 10_000_000n, seal: new Uint8Array(0) }, decodePowSeal(h.seal).bits), /future/],
    ]
    for (const [what, forge, pattern] of cases) {
      const light = lightClient(spec, full)
      const forged = [...headers.slice(0, 3), forge(headers[3]!)]
      assert.throws(() => light.add(forged), pattern, what)
      assert.equal(light.head.header.height, 3n, `${what}: the three good headers before it are kept`)
      assert.equal(light.get(blockHash(forged[3]!)), undefined, `${what}: the forged header is not`)
    }
    const light = lightClient(spec, full)
    assert.throws(() => light.add(headers.slice(2)), /UNKNOWN_PARENT|unknown/)
    assert.equal(light.size, 1, 'only the checkpoint')
  })

  test('of two sources the chain with more work is the head; a longer chain with less work loses', async () => {
    const spec = specWith()
    const a = await fullNode(spec)
    const b = await fullNode(spec)
    const heavy = await mineBlocks(a, 12, 60n) // crosses the retarget at 10 on schedule: the target stays
    const light = lightClient(spec, a)
    // B mines slower blocks: after its retarget at 10 its blocks are easier (less work each).
    const slow = await mineBlocks(b, 14, 240n)
    assert.ok(b.t.chain.getWork(b.t.chain.head.hash) < a.t.chain.getWork(a.t.chain.head.hash), 'B is longer but lighter')
    light.add(slow)
    assert.equal(bytesToHex(light.head.hash), bytesToHex(b.t.chain.head.hash), 'alone, B is the best chain')
    const out = light.add(heavy)
    assert.equal(out.head, true)
    assert.equal(bytesToHex(light.head.hash), bytesToHex(a.t.chain.head.hash), 'A has more work: A is the head')
    assert.equal(light.head.header.height, 12n)
    assert.equal(light.isBest(blockHash(slow[13]!)), false)
    // The other order gives the same head.
    const other = lightClient(spec, a)
    other.add(heavy)
    assert.equal(other.add(slow).head, false)
    assert.equal(bytesToHex(other.head.hash), bytesToHex(a.t.chain.head.hash))
  })

  test('the datadir keeps the best chain across restarts; loading checks every header again', async () => {
    const spec = specWith()
    const full = await fullNode(spec)
    const headers = await mineBlocks(full, 30, 60n)
    const dir = await mkdtemp(join(tmpdir(), 'light-store-'))
    try {
      const first = lightClient(spec, full)
      first.add(headers)
      const store = await LightHeaderStore.open(dir, first.checkpoint.hash, first.checkpoint.hash)
      await store.save(first)
      await store.close()

      const again = lightClient(spec, full)
      const reopened = await LightHeaderStore.open(dir, again.checkpoint.hash, again.checkpoint.hash)
      assert.equal(reopened.load(again), 30)
      assert.equal(bytesToHex(again.head.hash), bytesToHex(first.head.hash))
      await reopened.close()

      await assert.rejects(LightHeaderStore.open(dir, new Uint8Array(32).fill(7), new Uint8Array(32).fill(7)), /another chain/)

      // A header damaged on disk: loading stops before it; the headers below it stay.
      const raw = await LevelStore.open(join(dir, 'light-headers'))
      await raw.batch([{ type: 'put', key: Uint8Array.of(0x6e, ...heightKey(20n)), value: encodeHeader(badNonce(headers[19]!)) }])
      await raw.close()
      const third = lightClient(spec, full)
      const damaged = await LightHeaderStore.open(dir, third.checkpoint.hash, third.checkpoint.hash)
      damaged.load(third)
      assert.equal(third.head.header.height, 19n, 'stopped just below the damaged header')
      assert.equal(third.get(blockHash(badNonce(headers[19]!))), undefined)
      await damaged.close()

      // A renewed checkpoint: the headers kept from the old one are not loaded (they start afresh).
      const renewed = await LightHeaderStore.open(dir, third.checkpoint.hash, blockHash(headers[9]!))
      assert.equal(renewed.load(lightClient(spec, full)), 0)
      await renewed.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('from a checkpoint: its ancestors, linked by hash, give the retarget and median-time rules what they read', async () => {
    const spec = specWith() // bitcoin retarget every 10 blocks
    const full = await fullNode(spec)
    const headers = await mineBlocks(full, 30, 60n)
    const all = [full.t.chain.getHeader(full.t.chain.getHashAt(0n)!)!, ...headers]
    const source: HeaderSource = {
      url: 'test://full',
      headNumber: async () => 30n,
      headers: async (from, to) => all.slice(Number(from), Number(to) + 1),
      headerByHash: async (hash) => all.find((h) => bytesToHex(blockHash(h)) === bytesToHex(hash)),
      finalityProof: async () => null,
    }
    const cp = await fetchCheckpoint([source], blockHash(all[15]!), ancestorWindow(spec))
    assert.equal(cp.ancestors.length, 15, 'the window reaches genesis here')
    const rules = new PowRules(spec.engine as never, spec.blockTimeMs, { getHeader: () => undefined, getHashAt: () => undefined }, () => T0 + 1_000_000n)
    const light = new LightHeaderChain(spec, rules, { hash: cp.hash, header: cp.header, work: 0n }, () => T0 + 1_000_000n, cp.ancestors)
    assert.equal(light.add(all.slice(16)).added, 15, 'across the retarget at 20, whose interval starts below the checkpoint')
    assert.equal(bytesToHex(light.head.hash), bytesToHex(blockHash(all[30]!)))
    // Without the ancestors the rules have nothing to read.
    const bare = new LightHeaderChain(spec, rules, { hash: cp.hash, header: cp.header, work: 0n }, () => T0 + 1_000_000n)
    assert.throws(() => bare.add(all.slice(16)), (err: unknown) => err instanceof BlockError)
    // A source whose ancestors do not lead to the checkpoint's hash is not believed.
    const lying: HeaderSource = { ...source, url: 'test://liar', headers: async (from, to) => all.slice(Number(from), Number(to) + 1).map((h) => (h.height === 12n ? { ...h, timestamp: h.timestamp + 1n } : h)) }
    await assert.rejects(fetchCheckpoint([lying], blockHash(all[15]!), ancestorWindow(spec)), /test:\/\/liar: its header 12 is not the parent of header 13/)
    await assert.rejects(fetchCheckpoint([source], new Uint8Array(32).fill(1), ancestorWindow(spec)), /does not have it/)
  })
})

function badNonce(h: BlockHeader): BlockHeader {
  const { bits, nonce } = decodePowSeal(h.seal)
  const target = compactToTarget(bits)
  const sh = sealHash({ ...h, seal: new Uint8Array(0) })
  for (let n = nonce + 1n; ; n++) {
    if (BigInt(bytesToHex(powHash(sh, bits, n))) > target) return { ...h, seal: encodePowSeal({ bits, nonce: n }) }
  }
}
