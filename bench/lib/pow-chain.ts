/**
 * The parts of bench/pow-sync.ts that need no running node: its options, the genesis of the
 * benchmark chain (bitcoin-like with a trivial target), an in-process builder that mines a long
 * PoW chain with signed transfers straight into a store, parsing of the syncing node's JSON log,
 * a summary of a V8 CPU profile, and the report.
 */
import { parseArgs } from 'node:util'
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToHex } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import { Chain } from '../../src/chain/chain.ts'
import { BlockImporter } from '../../src/chain/import.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import type { ChainSpec, ChainSpecJSON } from '../../src/chain/spec/index.ts'
import { encodePowSeal, sealHash } from '../../src/consensus/pow/seal.ts'
import { PowRules } from '../../src/consensus/pow/rules.ts'
import { meetsTarget, powHash } from '../../src/consensus/pow/pow-hash.ts'
import { compactToTarget } from '../../src/consensus/pow/target.ts'
import { ethereumCustomCrypto, signDigest } from '../../src/crypto/secp256k1.ts'
import { Executor, makeCommon } from '../../src/execution/index.ts'
import type { KeyValueStore } from '../../src/storage/index.ts'
import { deriveKeys, TEST_MNEMONIC } from '../../src/wallet/hd.ts'
import { BenchError } from './errors.ts'
import type { Machine } from './report.ts'

// ---------------------------------------------------------------------------------------------
// Options

export interface PowSyncArgs {
  blocks: number
  txsPerBlock: number
  /** Keep both datadirs (and the genesis file) after the run. */
  keep: boolean
  out: string
  /** Seconds the syncing node may take to reach the source's head. */
  timeout: number
  /** Directory for a V8 CPU profile of the syncing node (node --cpu-prof). */
  cpuProf?: string
  /** A directory kept by an earlier run (--keep): serve its chain instead of building one. */
  source?: string
  help: boolean
}

export const MAX_BLOCKS = 1_000_000
export const MAX_TXS_PER_BLOCK = 1000
/** Mnemonic accounts that send the transfers (all prefunded by the bitcoin-like preset). */
export const SENDERS = 10

export const POW_SYNC_USAGE = `Usage: node --import tsx bench/pow-sync.ts [options]

Block import rate of a node syncing a Proof-of-Work chain from a peer over libp2p. The chain
(bitcoin-like preset, trivial target, 1 s blocks, signed transfers in every block) is mined
in-process into a datadir; a node serves it and a second node with an empty datadir syncs it.

Options:
  --blocks N          blocks in the source chain                  (default 10000)
  --txs-per-block N   signed transfers in every block, 0 = none     (default 5)
  --timeout S         seconds the syncing node may take            (default 1800)
  --cpu-prof DIR      write a V8 CPU profile of the syncing node to DIR and summarize it
                      (the profiled run is slower; its numbers are marked as such)
  --keep              keep both datadirs and the genesis file (the temp dir is printed)
  --source DIR        serve the chain of a run kept with --keep (DIR/genesis.json and
                      DIR/source) instead of building one; not with --blocks/--txs-per-block
  --out FILE          results file; only its "pow-sync" section is rewritten
                                                                   (default bench/RESULTS.md)
  -h, --help          this text
`

export function parsePowSyncArgs(argv: string[]): PowSyncArgs {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        blocks: { type: 'string' },
        'txs-per-block': { type: 'string' },
        timeout: { type: 'string', default: '1800' },
        'cpu-prof': { type: 'string' },
        source: { type: 'string' },
        keep: { type: 'boolean', default: false },
        out: { type: 'string', default: 'bench/RESULTS.md' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    throw new BenchError('BAD_ARGS', `${err instanceof Error ? err.message : String(err)}\n\n${POW_SYNC_USAGE}`)
  }
  for (const flag of ['cpu-prof', 'source'] as const) {
    if (values[flag] !== undefined && values[flag].trim() === '') throw new BenchError('BAD_ARGS', `--${flag} needs a directory`)
  }
  if (values.source !== undefined && (values.blocks !== undefined || values['txs-per-block'] !== undefined)) {
    throw new BenchError('BAD_ARGS', '--source serves a chain built earlier: --blocks and --txs-per-block do not apply')
  }
  return {
    blocks: wholeNumber('--blocks', values.blocks ?? '10000', 1, MAX_BLOCKS),
    txsPerBlock: wholeNumber('--txs-per-block', values['txs-per-block'] ?? '5', 0, MAX_TXS_PER_BLOCK),
    timeout: wholeNumber('--timeout', values.timeout, 1, 24 * 3600),
    ...(values['cpu-prof'] !== undefined ? { cpuProf: values['cpu-prof'] } : {}),
    ...(values.source !== undefined ? { source: values.source } : {}),
    keep: values.keep,
    out: values.out,
    help: values.help,
  }
}

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new BenchError('BAD_ARGS', `${flag} must be a whole number from ${min} to ${max}, got "${raw}"`)
  }
  return n
}

// ---------------------------------------------------------------------------------------------
// The chain

/** The easiest compact target: about 2 hashes per block. */
export const TRIVIAL_BITS = 0x207fffff

/**
 * The bitcoin-like preset with a trivial target and 1 s blocks. With Bitcoin's retarget and
 * blocks exactly 1 s apart, each 2016-block period measures 2015 s against 2016 s (Bitcoin's
 * off-by-one), so the target shrinks by 1/2016 per period: still about 2 hashes a block.
 */
export function powSyncSpec(opts: { retargetInterval?: number } = {}): ChainSpecJSON {
  const spec = presetJSON('bitcoin-like')
  if (!spec) throw new Error('the bitcoin-like preset is missing')
  spec.name = 'pow-sync-bench'
  spec.engine = {
    type: 'pow',
    initialBits: TRIVIAL_BITS,
    powLimitBits: TRIVIAL_BITS,
    retarget: { kind: 'bitcoin', interval: opts.retargetInterval ?? 2016 },
    coinbaseMaturity: 100,
    maxReorgDepth: 1000,
  }
  spec.blockTimeMs = 1000
  return spec
}

/** The first nonce whose PoW hash meets `bits` (the main thread: ~2 attempts on a trivial target). */
export function mineNonce(sealHashBytes: Uint8Array, bits: number, maxAttempts = 1_000_000): bigint {
  const target = compactToTarget(bits)
  for (let nonce = 0n; nonce < BigInt(maxAttempts); nonce++) {
    if (meetsTarget(powHash(sealHashBytes, bits, nonce), target)) return nonce
  }
  throw new Error(`no nonce within ${maxAttempts} attempts for bits 0x${bits.toString(16)}: the benchmark needs a trivial target`)
}

/** A fresh account for the n-th transfer: 0xbe, zeros, n (never a precompile or a sender). */
export function recipientAddress(n: number): Uint8Array {
  const a = new Uint8Array(20)
  a[0] = 0xbe
  new DataView(a.buffer).setBigUint64(12, BigInt(n))
  return a
}

export interface TransferSlot {
  /** Index of the mnemonic account that sends. */
  sender: number
  nonce: bigint
  /** Global index of the transfer (its recipient and value derive from it). */
  index: number
}

/**
 * The transfers of block `block` (1-based): transfer k = (block - 1) * perBlock + j comes from
 * sender k % senders with nonce floor(k / senders), so nonces follow from the index alone.
 */
export function transferSlots(block: number, perBlock: number, senders: number): TransferSlot[] {
  const slots: TransferSlot[] = []
  for (let j = 0; j < perBlock; j++) {
    const index = (block - 1) * perBlock + j
    slots.push({ sender: index % senders, nonce: BigInt(Math.floor(index / senders)), index })
  }
  return slots
}

/** Fees every transfer offers: the preset's minimum gas price as the tip (base fee is 0). */
const TIP = 1_000_000_000n
const MAX_FEE = 2_000_000_000n

export interface BuildPowChainOptions {
  store: KeyValueStore
  spec: ChainSpec
  blocks: number
  txsPerBlock: number
  senders?: number
  /** Credited with the block rewards. */
  producer?: Uint8Array
  /** Called after each block with the height reached. */
  onBlock?: (height: number) => void
}

export interface BuiltPowChain {
  height: number
  headHash: string
  genesisHash: string
  txs: number
  /** Wall time of building (signing, executing, mining, committing). */
  seconds: number
}

/**
 * Mines `blocks` blocks on top of the store's head, each with `txsPerBlock` signed transfers,
 * timestamps 1 s apart from genesis, and commits them as a node would. Every sealed header is
 * checked by the same verifier a syncing node uses (bits from the retarget rule, PoW, time rules),
 * and a block that does not hold all its transfers fails the build.
 */
export async function buildPowChain(o: BuildPowChainOptions): Promise<BuiltPowChain> {
  const { spec } = o
  if (spec.engine.type !== 'pow') throw new BenchError('BAD_ARGS', `the chain spec's engine is ${spec.engine.type}, not pow`)
  const senders = o.senders ?? SENDERS
  const keys = deriveKeys(TEST_MNEMONIC, senders).map((k) => k.privateKey)
  const common = makeCommon(spec.chainId, ethereumCustomCrypto())
  const chain = await Chain.open(o.store, spec, common)
  const executor = new Executor(o.store, common, (h) => chain.getHashAt(h))
  executor.stateCache.reset(chain.head.header.stateRoot)
  const verifier = new PowRules(spec.engine, spec.blockTimeMs, chain)
  const importer = new BlockImporter(chain, executor, verifier)
  const producer = o.producer ?? PRODUCER
  const startHeight = Number(chain.head.header.height)
  const started = performance.now()
  let txs = 0
  for (let n = startHeight + 1; n <= startHeight + o.blocks; n++) {
    const batch = transferSlots(n, o.txsPerBlock, senders).map((s) => signTransfer(common, keys[s.sender]!, s))
    let i = 0
    const parent = chain.head
    const produced = await importer.produce({
      timestamp: parent.header.timestamp + 1n,
      producer,
      source: { next: () => batch[i++], skipSender: () => {} },
      seal: async (header) => {
        const bits = verifier.expectedBits(header.parentHash, parent.header)
        const sealed = { ...header, seal: encodePowSeal({ bits, nonce: mineNonce(sealHash(header), bits) }) }
        verifier.verifyHeader(sealed, parent.header)
        return sealed
      },
    })
    const included = produced.imported.block.txs.length
    if (included !== batch.length) {
      const why = produced.rejected[0] ? `: ${produced.rejected[0].reason}` : ''
      throw new Error(`block ${n} holds ${included} of its ${batch.length} transfers${why}`)
    }
    txs += included
    o.onBlock?.(n)
  }
  return {
    height: Number(chain.head.header.height),
    headHash: bytesToHex(chain.head.hash),
    genesisHash: bytesToHex(chain.genesisHash),
    txs,
    seconds: (performance.now() - started) / 1000,
  }
}

/** The head and tx count of a chain built earlier (--source), read from its store. */
export async function describePowChain(store: KeyValueStore, spec: ChainSpec): Promise<BuiltPowChain> {
  const chain = await Chain.open(store, spec, makeCommon(spec.chainId, ethereumCustomCrypto()))
  const height = Number(chain.head.header.height)
  let txs = 0
  for (let h = 1n; h <= chain.head.header.height; h++) txs += chain.getBlockAt(h)?.txs.length ?? 0
  return { height, headHash: bytesToHex(chain.head.hash), genesisHash: bytesToHex(chain.genesisHash), txs, seconds: 0 }
}

const PRODUCER = Uint8Array.from(Buffer.from('00000000000000000000000000000000000c0ffe', 'hex'))

/** An EIP-1559 transfer signed with the native secp256k1 backend (ethereumjs' own signing is pure JS). */
function signTransfer(common: Common, key: Uint8Array, slot: TransferSlot): TypedTransaction {
  const unsigned = createFeeMarket1559Tx(
    {
      nonce: slot.nonce,
      to: new Address(recipientAddress(slot.index)),
      value: 1000n + BigInt(slot.index),
      gasLimit: 21_000n,
      maxFeePerGas: MAX_FEE,
      maxPriorityFeePerGas: TIP,
      chainId: common.chainId(),
    },
    { common },
  )
  const sig = signDigest(unsigned.getHashedMessageToSign(), key)
  return unsigned.addSignature(BigInt(sig.recovery), sig.r, sig.s)
}

// ---------------------------------------------------------------------------------------------
// The syncing node's log

/** The fields of the node's `sync: caught up` line. */
export interface CaughtUp {
  head: number
  hash: string
  seconds: number
}

/**
 * The last `sync: caught up` line in the node's JSON log (pino: one object per line) that
 * reached at least `minHead`; undefined when there is none yet.
 */
export function findCaughtUp(logText: string, minHead = 0): CaughtUp | undefined {
  let found: CaughtUp | undefined
  for (const line of logText.split('\n')) {
    if (!line.startsWith('{') || !line.includes('sync: caught up')) continue
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line) as Record<string, unknown>
    } catch {
      continue // a line cut by the output tail
    }
    if (entry.msg !== 'sync: caught up') continue
    const { head, hash, seconds } = entry
    if (typeof head === 'number' && typeof hash === 'string' && typeof seconds === 'number' && head >= minHead) found = { head, hash, seconds }
  }
  return found
}

// ---------------------------------------------------------------------------------------------
// CPU profile (.cpuprofile, as written by node --cpu-prof)

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface ProfileEntry {
  name: string
  /** Where: a path under the repo, a package (`pkg:name`), `node:...`, or `(native)`. */
  where: string
  selfMs: number
  totalMs: number
}

export interface ProfileSummary {
  totalMs: number
  /** Functions by self time. */
  functions: ProfileEntry[]
  /** Self time grouped by place: a src/ directory, a package, node internals, GC, idle. */
  places: Array<{ where: string; selfMs: number }>
}

/** Shortens a profile URL to the file under the repo, the package it belongs to, or node's own. */
export function profilePlace(url: string): string {
  if (url === '') return '(native)'
  if (url.startsWith('node:')) return 'node internals'
  const path = url.replace(/^file:\/\//, '')
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (pkg) return `pkg:${pkg[1]}`
  const src = /\/((?:src|bench|test)\/.*)$/.exec(path)
  return src ? src[1]! : path
}

/** Groups a file under its src/ directory (src/chain, src/execution, ...) for the places table. */
function placeGroup(where: string): string {
  const m = /^(src\/[^/]+)\//.exec(where)
  return m ? m[1]! : where
}

/**
 * Self and total (inclusive) time per function, and self time per place, from a V8 CPU profile.
 * A sample's time is the delta to the next sample; recursion is counted once per sample.
 */
export function summarizeCpuProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const keyOf = (id: number) => {
    const f = byId.get(id)!.callFrame
    const place = profilePlace(f.url)
    // Line 0 is what V8 reports for code that tsx transformed: no line is better than a wrong one.
    const where = f.url && f.lineNumber > 0 ? `${place}:${f.lineNumber + 1}` : place
    return { key: `${f.functionName || '(anonymous)'}\u0000${where}`, name: f.functionName || '(anonymous)', where }
  }
  const fns = new Map<string, ProfileEntry>()
  const places = new Map<string, number>()
  let totalMs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const next = profile.timeDeltas[i + 1]
    const ms = (next ?? 0) / 1000
    if (ms <= 0) continue
    totalMs += ms
    const leaf = profile.samples[i]!
    const seen = new Set<string>()
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const k = keyOf(id)
      let e = fns.get(k.key)
      if (!e) fns.set(k.key, (e = { name: k.name, where: k.where, selfMs: 0, totalMs: 0 }))
      if (id === leaf) {
        e.selfMs += ms
        const f = byId.get(id)!.callFrame
        const group = f.url ? placeGroup(profilePlace(f.url)) : specialPlace(f.functionName)
        places.set(group, (places.get(group) ?? 0) + ms)
      }
      if (!seen.has(k.key)) {
        seen.add(k.key)
        e.totalMs += ms
      }
    }
  }
  return {
    totalMs,
    functions: [...fns.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
    places: [...places.entries()].map(([where, selfMs]) => ({ where, selfMs })).sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
  }
}

function specialPlace(functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(program)') return '(program)'
  return '(native)'
}

// ---------------------------------------------------------------------------------------------
// Rate along the chain

/** The syncing node's height at a moment (seconds since its spawn). */
export interface HeightSample {
  seconds: number
  height: number
}

export interface SegmentRate {
  /** Blocks from..to of the chain this segment covers. */
  from: number
  to: number
  blocksPerSec: number
}

/**
 * Import rate over `segments` equal stretches of the chain, from polled heights: a stretch runs
 * from the first sample at or past its start (the first above 0 for the first stretch, so the
 * node's start-up is left out) to the first sample at or past its end. Shows whether the rate
 * holds as the chain and its state grow.
 */
export function segmentRates(samples: readonly HeightSample[], total: number, segments = 4): SegmentRate[] {
  const firstAt = (h: number) => samples.find((x) => x.height >= h && x.height > 0)
  const out: SegmentRate[] = []
  for (let i = 0; i < segments; i++) {
    const from = Math.round((i * total) / segments)
    const to = Math.round(((i + 1) * total) / segments)
    const a = firstAt(from)
    const b = firstAt(to)
    if (!a || !b || b.seconds <= a.seconds) continue
    out.push({ from, to, blocksPerSec: (b.height - a.height) / (b.seconds - a.seconds) })
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Report

export interface PowSyncResult {
  blocks: number
  txsPerBlock: number
  txs: number
  /** In-process building of the source chain (sign, execute, mine, commit); unset with --source. */
  buildSeconds?: number
  /** From spawning the syncing node until its eth_blockNumber reached the source's head. */
  seconds: number
  blocksPerSec: number
  txsPerSec: number
  /** From spawning the syncing node until it answered JSON-RPC. */
  startupSeconds: number
  /** The node's own `sync: caught up` seconds (first range request to the last import). */
  nodeSeconds?: number
  nodeBlocksPerSec?: number
  /** blocks/s over each quarter of the chain (segmentRates). */
  segments: SegmentRate[]
  headHash: string
  verified: boolean
  /** The syncing node ran with --cpu-prof (slower than usual). */
  profiled: boolean
}

export function powSyncJsonLine(r: PowSyncResult): string {
  return JSON.stringify({
    bench: 'pow-sync',
    blocks: r.blocks,
    txsPerBlock: r.txsPerBlock,
    txs: r.txs,
    buildSeconds: r.buildSeconds === undefined ? null : round(r.buildSeconds, 3),
    seconds: round(r.seconds, 3),
    blocksPerSec: round(r.blocksPerSec, 1),
    txsPerSec: round(r.txsPerSec, 1),
    startupSeconds: round(r.startupSeconds, 3),
    nodeSeconds: r.nodeSeconds === undefined ? null : round(r.nodeSeconds, 3),
    nodeBlocksPerSec: r.nodeBlocksPerSec === undefined ? null : round(r.nodeBlocksPerSec, 1),
    segments: r.segments.map((x) => ({ from: x.from, to: x.to, blocksPerSec: round(x.blocksPerSec, 1) })),
    headHash: r.headHash,
    verified: r.verified,
    profiled: r.profiled,
  })
}

export function renderPowSyncSection(r: PowSyncResult, machine: Machine, command: string, profile?: ProfileSummary): string {
  const node = r.nodeSeconds === undefined ? '—' : `${r.nodeSeconds.toFixed(2)} s = **${r.nodeBlocksPerSec!.toFixed(0)} blocks/s**`
  const lines = [
    '## PoW sync — block import rate while syncing from a peer',
    '',
    `A ${r.blocks.toLocaleString('en-US')}-block Proof-of-Work chain (bitcoin-like preset, trivial target 0x${TRIVIAL_BITS.toString(16)}, ` +
      `blocks 1 s apart, ${r.txsPerBlock} signed EIP-1559 transfers per block from ${SENDERS} mnemonic accounts, each to a new address) ` +
      (r.buildSeconds === undefined
        ? 'was mined in-process into a datadir by an earlier run (`--source`). '
        : `is mined in-process into a datadir (${r.buildSeconds.toFixed(1)} s: sign, execute, mine, commit, ${(r.blocks / r.buildSeconds).toFixed(0)} blocks/s). `) +
      'A node serves it (`--p2p-port 0`, not mining); a second node with an empty datadir and `--bootnodes <source>` syncs it over libp2p ' +
      '(headers first: 1,024 headers a request, the seal, retarget bits and time rules of each checked before any body is asked for; then bodies by hash, 64 a request, the next in flight while one is imported; every block re-executed and its header checked again). ' +
      'Time = from spawning the syncing node until its `eth_blockNumber` (polled every 100 ms) reaches the source head, so it includes ' +
      `the node's start (${r.startupSeconds.toFixed(2)} s to serve JSON-RPC) and the peer connection. Both nodes must then report the same head hash.` +
      (r.profiled ? ' **This run was profiled (`--cpu-prof`): slower than usual.**' : ''),
    '',
    '| blocks | txs | seconds | blocks/s | txs/s | node-reported sync | verified |',
    '|---:|---:|---:|---:|---:|---|---|',
    `| ${r.blocks} | ${r.txs} | ${r.seconds.toFixed(2)} | **${r.blocksPerSec.toFixed(0)}** | ${r.txsPerSec.toFixed(0)} | ${node} | ${r.verified ? 'yes (same head hash)' : 'NO'} |`,
  ]
  if (r.segments.length > 0) {
    lines.push(
      '',
      `Along the chain (from the polled heights): ${r.segments.map((x) => `blocks ${x.from}–${x.to}: ${x.blocksPerSec.toFixed(0)}/s`).join('; ')}.`,
    )
  }
  if (profile) {
    lines.push(
      '',
      `CPU profile of the syncing node (${(profile.totalMs / 1000).toFixed(1)} s sampled), self time by place:`,
      '',
      '| place | self ms | share |',
      '|---|---:|---:|',
      ...profile.places.slice(0, 10).map((p) => `| ${p.where} | ${p.selfMs.toFixed(0)} | ${pct(p.selfMs, profile.totalMs)} |`),
      '',
      'Top functions by self time:',
      '',
      '| function | where | self ms | total ms |',
      '|---|---|---:|---:|',
      ...profile.functions.slice(0, 15).map((f) => `| ${mdCell(f.name)} | ${mdCell(f.where)} | ${f.selfMs.toFixed(0)} | ${f.totalMs.toFixed(0)} |`),
    )
  }
  lines.push('', `Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}, ${machine.date}`, '', `Command (from the repo root): \`${command}\``)
  return lines.join('\n')
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '—'
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

function round(n: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}
