/**
 * PoH chains for unit tests: a solana-like spec with a tiny clock (no pacing), a test chain
 * whose importer applies the real PohRules, and blocks made the way a leader makes them
 * (entries from consensus/poh's sequence functions instead of the generator thread), so tests
 * can also make them wrong in one precise place.
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import { privateToAddress } from '@ethereumjs/util'
import type { Block, BlockHeader } from '../../src/chain/block.ts'
import { parseChainSpec, type ChainSpec } from '../../src/chain/spec/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { PohRules } from '../../src/consensus/poh-engine/rules.ts'
import { encodePohSeal, sealEntriesOf, signingHash, type PohSeal } from '../../src/consensus/poh-engine/seal.ts'
import { PohVerifier, signSlotBlock, type PohEntry } from '../../src/consensus/poh/index.ts'
import { entriesFrom } from '../../src/consensus/poh-engine/offline-entries.ts'
import { KEYS, openTestChain, type TestChain } from './chain.ts'

export const CLOCK = { hashesPerTick: 40, ticksPerSlot: 4 }

/** The solana-like preset with the first `validators` test accounts staking (40, 30, 20, 10 ETH ...) and a tiny clock. */
export function pohSpec(validators = 1, extra: Record<string, unknown> = {}): ChainSpec {
  const json = presetJSON('solana-like')! as unknown as { engine: Record<string, unknown> & { validators: unknown[] } }
  json.engine.validators = json.engine.validators.slice(0, validators)
  delete json.engine.minTickMs
  Object.assign(json.engine, { ...CLOCK, slotsPerEpoch: 32, ...extra })
  return parseChainSpec(json)
}

export interface PohTestChain extends TestChain {
  rules: PohRules
  verifier: PohVerifier
}

export async function openPohChain(spec = pohSpec()): Promise<PohTestChain> {
  const verifier = new PohVerifier({ threads: 1 })
  let rules!: PohRules
  const t = await openTestChain({
    spec,
    rules: (chain) =>
      (rules = new PohRules({
        chainId: spec.chainId,
        spec: spec.engine as Extract<ChainSpec['engine'], { type: 'poh' }>,
        chain: { genesisHash: chain.genesisHash, getHeader: (h) => chain.getHeader(h), getHashAt: (h) => chain.getHashAt(h), isCanonical: (h) => chain.isCanonical(h), stakesAfter: (h) => chain.stakes.after(h) },
        verifier,
      })),
  })
  return { ...t, rules, verifier }
}

export interface MakeBlockOptions {
  slot: bigint
  /** The leader's key (default: the scheduled leader's among KEYS). */
  key?: Uint8Array
  txs?: TypedTransaction[]
  /** Builds on this block instead of the head (it must be the head: the importer builds on the head). */
  votes?: Uint8Array[]
  evidence?: Uint8Array[]
  /** Changes the entries before sealing (to make the PoH wrong). */
  entries?: (entries: PohEntry[]) => PohEntry[]
  /** Changes the seal before signing. */
  seal?: (seal: PohSeal) => PohSeal
  timestamp?: bigint
}

/** A block of `slot` on the head, as its leader would make it (valid unless told otherwise). */
export async function makePohBlock(t: PohTestChain, o: MakeBlockOptions): Promise<Block> {
  const head = t.chain.head
  const parent = t.rules.pohEndOf(head.header, head.hash)
  const leader = t.rules.leaderOf(o.slot, head.hash)
  const key = o.key ?? KEYS.find((k) => Buffer.from(privateToAddress(k)).equals(Buffer.from(leader)))!
  const producer = privateToAddress(key)
  const preset: PohSeal = { slot: o.slot, parentSlot: parent.slot, pohStart: parent.end, pohEnd: new Uint8Array(32), entries: [], votes: o.votes ?? [], evidence: o.evidence ?? [], signature: new Uint8Array(0) }
  const txs = o.txs ?? []
  let i = 0
  const built = await t.importer.build({
    timestamp: o.timestamp ?? head.header.timestamp + 1n,
    producer,
    presetSeal: encodePohSeal(preset),
    source: { next: () => txs[i++], skipSender: () => {} },
  })
  let entries = entriesFor(parent.end, Number(o.slot - parent.slot), built.block.txs.map((tx) => tx.hash()))
  if (o.entries) entries = o.entries(entries)
  let seal: PohSeal = { ...preset, pohEnd: entries[entries.length - 1]!.hash, entries: sealEntriesOf(entries) }
  if (o.seal) seal = o.seal(seal)
  const unsigned: BlockHeader = { ...built.block.header, seal: encodePohSeal(seal) }
  const { signature } = signSlotBlock({ leader: producer, slot: o.slot, blockHash: signingHash(unsigned, seal) }, key, t.spec.chainId)
  return { header: { ...unsigned, seal: encodePohSeal({ ...seal, signature }) }, txs: built.block.txs }
}

/** `slots` slots of ticks from `start`; the txs (if any) mixed in during the last slot's first tick, 8 per entry. */
export function entriesFor(start: Uint8Array, slots: number, txHashes: Uint8Array[]): PohEntry[] {
  return entriesFrom(start, slots, CLOCK, txHashes, 8)
}
