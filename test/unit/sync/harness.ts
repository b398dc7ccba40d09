/**
 * Nodes in one process for sync tests: each is a real chain (in-memory store), a real libp2p
 * network on 127.0.0.1 and a real BlockSync, wired as node/node.ts wires them. PoW nodes have
 * the production PowRules (seal, retarget bits, time rules, work) on an easy target; other
 * nodes take any chain (test/helpers/chain.ts), e.g. a dev chain, which syncs by range.
 * Blocks are mined for real (a nonce search against the target the retarget rule gives), so
 * a chain's work is what its headers prove.
 *
 * The retarget rule is ASERT with a short half-life: a chain mined with timestamps 1 s apart
 * (ahead of the 60 s schedule) gets harder quickly, one mined 10 minutes apart stays at the
 * easiest target. That is how a test builds a long chain with little work beside a short one
 * with more.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import pino from 'pino'
import { Chain } from '../../../src/chain/chain.ts'
import type { BlockHeader } from '../../../src/chain/block.ts'
import { BlockImporter } from '../../../src/chain/import.ts'
import { parseChainSpec, type ChainSpec } from '../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../src/chain/spec/presets.ts'
import { meetsTarget, powHash } from '../../../src/consensus/pow/pow-hash.ts'
import { PowRules } from '../../../src/consensus/pow/rules.ts'
import { encodePowSeal, sealHash } from '../../../src/consensus/pow/seal.ts'
import { compactToTarget, targetToCompact } from '../../../src/consensus/pow/target.ts'
import { ethereumCustomCrypto } from '../../../src/crypto/secp256k1.ts'
import { Executor, makeCommon } from '../../../src/execution/index.ts'
import { createNetwork, type Network, type NetworkOptions } from '../../../src/net/index.ts'
import { MemoryStore } from '../../../src/storage/index.ts'
import { BlockSync } from '../../../src/sync/index.ts'
import { waitFor } from '../net/helpers.ts'

/** Seconds between blocks the retarget rule aims for. */
export const SPACING = 60n

type Retarget = { kind: 'asert'; halfLifeSeconds: number } | { kind: 'bitcoin'; interval: number }

/** An easy PoW chain: about 16 hashes a block at the easiest target; ASERT with a 10-block half-life unless told. */
export function powSpec(opts: { maxReorgDepth?: number; retarget?: Retarget } = {}): ChainSpec {
  const json = presetJSON('bitcoin-cash-like')!
  json.name = 'pow-sync-test'
  json.blockTimeMs = Number(SPACING) * 1000
  const easiest = targetToCompact((1n << 256n) / 16n)
  const retarget = opts.retarget ?? { kind: 'asert', halfLifeSeconds: 600 }
  json.engine = { type: 'pow', initialBits: easiest, powLimitBits: easiest, retarget, coinbaseMaturity: 0, maxReorgDepth: opts.maxReorgDepth ?? 100 }
  return parseChainSpec(json)
}

export interface SyncNode {
  chain: Chain
  importer: BlockImporter
  net: Network
  sync: BlockSync
  /** Log messages of the network and the sync, in order. */
  logs: string[]
  /** Blocks this node executed to check them (the importer's 'validate' step). */
  validated: number
}

export interface PowNode extends SyncNode {
  spec: ChainSpec
  rules: PowRules
}

export interface PowNodeOptions {
  /** What the node claims in its status (a liar's head); default its real head and work. */
  claim?: (real: { height: bigint; hash: Uint8Array; work: bigint }) => { height: bigint; hash: Uint8Array; work?: bigint }
  limits?: NetworkOptions['limits']
  /** Start without BlockSync (a bare network a test drives itself). */
  noSync?: boolean
  /** Build the BlockSync but let the test start it (after connecting peers, say). */
  deferSync?: boolean
  /** Do not gossip the blocks it makes or takes (the test publishes what it wants). */
  quiet?: boolean
  /** Announce blocks larger than this by header instead of gossiping them whole. */
  maxInlineBytes?: number
}

/** A chain with the production PoW rules, no network. */
export async function powChain(spec: ChainSpec): Promise<Pick<PowNode, 'spec' | 'chain' | 'rules' | 'importer' | 'validated'>> {
  const common = makeCommon(spec.chainId, ethereumCustomCrypto())
  const store = new MemoryStore()
  const chain = await Chain.open(store, spec, common)
  const executor = new Executor(store, chain.commons, (h) => chain.getHashAt(h))
  if (spec.engine.type !== 'pow') throw new Error('not a pow spec')
  const rules = new PowRules(spec.engine, spec.blockTimeMs, chain)
  const importer = new BlockImporter(chain, executor, rules)
  const node = { spec, chain, rules, importer, validated: 0 }
  importer.onTiming = (step) => {
    if (step === 'validate') node.validated++
  }
  return node
}

/** A PoW node on the network: chain, libp2p host and block sync; stopped when the test ends. */
export async function powNode(t: TestContext, spec: ChainSpec, opts: PowNodeOptions = {}): Promise<PowNode> {
  return syncNode(t, await powChain(spec), opts)
}

/** Puts a chain on the network with a block sync; stopped when the test ends. */
export async function syncNode<T extends Pick<SyncNode, 'chain' | 'importer'>>(t: TestContext, base: T, opts: PowNodeOptions = {}): Promise<T & SyncNode> {
  const { chain } = base
  const counted = base as T & { validated?: number }
  if (counted.validated === undefined) {
    counted.validated = 0
    base.importer.onTiming = (step) => void (step === 'validate' && counted.validated!++)
  }
  const real = () => ({ height: chain.head.header.height, hash: chain.head.hash, work: chain.getWork(chain.head.hash) })
  const logs: string[] = []
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push((JSON.parse(line) as { msg: string }).msg) })
  const datadir = mkdtempSync(join(tmpdir(), 'catena-sync-'))
  const net = await createNetwork({
    datadir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootnodes: [],
    chainId: chain.spec.chainId,
    genesisHash: chain.genesisHash,
    head: () => (opts.claim ? opts.claim(real()) : real()),
    logger: log,
    limits: { redialMs: 200, statusRefreshMs: 0, statusTimeoutMs: 3000, scoreDecayPerMinute: 0, ...opts.limits },
  })
  await net.start()
  const sync = new BlockSync({ network: net, chain, importer: base.importer, log, ...(opts.maxInlineBytes !== undefined ? { maxInlineBytes: opts.maxInlineBytes } : {}) })
  const node = Object.assign(counted as T & { validated: number }, { net, sync, logs })
  if (!opts.noSync) {
    if (!opts.deferSync) await sync.start()
    if (!opts.quiet) chain.on('block', (b) => void sync.announce(b))
  } else {
    // A bare node still joins the topic, so gossipReady can tell when its gossip gets through.
    net.subscribe('blocks', () => 'ignore')
  }
  t.after(async () => {
    if (!opts.noSync) await sync.stop()
    await net.stop()
    rmSync(datadir, { recursive: true, force: true })
  })
  return node
}

/** Mines `count` empty blocks on the head, `gap` seconds apart (1 s: ahead of schedule, harder and harder). */
export async function mine(node: Pick<PowNode, 'chain' | 'rules' | 'importer'>, count: number, gap = 1n): Promise<void> {
  for (let i = 0; i < count; i++) {
    const parent = node.chain.head
    await node.importer.produce({
      timestamp: parent.header.timestamp + gap,
      producer: new Uint8Array(20).fill(0xc0),
      seal: async (h) => solve(node.rules, h, parent.header),
      source: { next: () => undefined, skipSender: () => {} },
    })
  }
}

/** Finds a nonce for the bits the retarget rule gives the child of `parent`. */
export function solve(rules: PowRules, header: BlockHeader, parent: BlockHeader): BlockHeader {
  const bits = rules.expectedBits(header.parentHash, parent)
  const target = compactToTarget(bits)
  const preimage = sealHash({ ...header, seal: new Uint8Array(0) })
  for (let nonce = 0n; ; nonce++) {
    if (meetsTarget(powHash(preimage, bits, nonce), target)) return { ...header, seal: encodePowSeal({ bits, nonce }) }
  }
}

/** Copies the canonical blocks 1..upTo of `from` into `to` (a shared history before a fork). */
export async function copyChain(from: Pick<PowNode, 'chain'>, to: Pick<PowNode, 'importer'>, upTo: bigint): Promise<void> {
  for (let h = 1n; h <= upTo; h++) await to.importer.importBlock(from.chain.getBlockAt(h)!)
}

/** Connects `a` to `b` and waits until both completed the handshake. */
export async function connect(a: PowNode, b: PowNode): Promise<void> {
  await a.net.connect(b.net.multiaddrs()[0]!)
}

/**
 * Waits until `from` can gossip blocks to `to`: `to` has heard `from`'s own subscription, which
 * travels on the stream `from` publishes on (gossipsub drops what it publishes before that
 * stream is open, and will not publish the same message twice).
 */
export async function gossipReady(from: SyncNode, to: SyncNode): Promise<void> {
  await waitFor(() => to.net.topicPeers('blocks').includes(from.net.peerId) && from.net.topicPeers('blocks').includes(to.net.peerId), 'gossip between the two nodes')
}

export const workOf = (node: Pick<PowNode, 'chain'>) => node.chain.getWork(node.chain.head.hash)
