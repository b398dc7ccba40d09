/**
 * The light client: follows the headers of one or more untrusted full nodes (JSON-RPC
 * sources), keeps only the ones that pass the chain's rules (header-chain.ts), and fetches
 * everything else on demand with the proofs that tie it to a verified header: state
 * (eth_getProof against the state root), a block's txs (their RFC 6962 root is the txRoot),
 * its receipts (re-encoded and re-hashed to the receiptsRoot). An answer that does not check
 * is never passed on: it is a lie, recorded against its source with what did not match, and
 * the next source is asked.
 * @module
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { blockHash, decodeTxs, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import type { BlockRules } from '../../chain/rules.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import { keccak256 } from '../../crypto/hash.ts'
import { merkleRoot } from '../../crypto/merkle.ts'
import { commonAt, type Commons } from '../../execution/common.ts'
import type { Receipt } from '../../execution/receipt.ts'
import { encodeReceipt } from '../../execution/receipt.ts'
import { RpcHeaderSource, type HeaderSource } from './header-source.ts'
import { LightHeaderChain, type VerifiedHeader } from './header-chain.ts'
import { MAX_BATCH, RpcSource, SourceError } from './source.ts'
import { ProofError, verifyAccountProof, type AccountProofJSON, type VerifiedAccount } from './state-proof.ts'

type Hex = `0x${string}`
/** Headers fetched from one source in one sync round at most. */
export const MAX_HEADERS_PER_ROUND = 20_000
/** Blocks whose verified bodies and receipts are kept. */
const BLOCK_CACHE = 64

export interface Lie {
  source: string
  at: number
  what: string
}

/** A source whose head is not on the verified best chain (a fork it follows, with less work). */
export interface Conflict {
  source: string
  height: string
  hash: string
  at: number
}

export interface VerifiedBlockData {
  header: VerifiedHeader
  txs: TypedTransaction[]
  receipts: Receipt[]
}

/** An answer that did not check against a verified header: the client refuses it. */
export class VerificationError extends Error {
  override readonly name = 'VerificationError'
}

/**
 * How headers of an engine without a self-checking header (BFT certificates, PoH votes,
 * producer signatures) are proven and appended: it verifies the source's headers past the
 * head and adds them to the chain (header-chain.ts extendFinal).
 */
export interface HeaderFollower {
  syncFrom(src: HeaderSource, theirs: bigint, limit: bigint, progress?: (at: bigint) => void): Promise<number>
  /** One line on how headers were checked so far, for the progress output. */
  summary(): string
  /** Engine-specific state for catena_lightStatus. */
  status(): Record<string, unknown>
}

export interface LightClientOptions {
  spec: ChainSpec
  commons: Commons
  rules: BlockRules
  checkpoint: VerifiedHeader
  /** A checkpoint's ancestors the engine's rules read (checkpoint.ts), linked to it by hash. */
  ancestors?: BlockHeader[]
  /** Full nodes' JSON-RPC: headers, and the proofs of everything the client serves. */
  sources: RpcSource[]
  /** More header sources (peers over libp2p); the RPC sources give headers too. */
  headerSources?: HeaderSource[]
  log: Logger
  now?: () => bigint
  /** Progress lines while headers sync (the CLI prints them). */
  progress?: (line: string) => void
  /** Engines whose headers are proven by more than the header (BFT: bft-sync.ts); PoW checks headers itself. */
  follower?: (chain: LightHeaderChain) => HeaderFollower
}

export class LightClient {
  readonly headers: LightHeaderChain
  readonly lies: Lie[] = []
  /** Sources whose head is on another branch than the verified head's, by source (cleared when they rejoin). */
  readonly conflicts = new Map<string, Conflict>()
  /** The verified header at each source's head, when we hold it. */
  private readonly sourceHeads = new Map<string, VerifiedHeader>()
  readonly follower?: HeaderFollower
  readonly headerSources: HeaderSource[]
  private readonly blocks = new Map<string, VerifiedBlockData>()

  constructor(private readonly o: LightClientOptions) {
    this.headers = new LightHeaderChain(o.spec, o.rules, o.checkpoint, o.now, o.ancestors)
    this.headerSources = [...o.sources.map((s) => new RpcHeaderSource(s)), ...(o.headerSources ?? [])]
    if (o.follower) this.follower = o.follower(this.headers)
  }

  get sources(): readonly RpcSource[] {
    return this.o.sources
  }

  get commons(): Commons {
    return this.o.commons
  }

  /** One round: every source's headers past ours, checked; returns how many were added. */
  async sync(): Promise<number> {
    let added = 0
    // A snapshot: peer sources come and go while a round runs (p2p-peers.ts edits the list).
    for (const src of [...this.headerSources]) {
      try {
        added += await this.syncFrom(src)
      } catch (err) {
        if (err instanceof BlockError && err.code !== 'UNKNOWN_PARENT' && err.code !== 'TIME_TOO_NEW' && err.code !== 'TRUST_EXPIRED') this.lie(src, `sent an invalid header: ${err.message}`)
        else this.o.log.warn({ source: src.url, err: (err as Error).message }, 'header sync from a source failed')
      }
    }
    if (!this.follower) this.noteConflicts()
    return added
  }

  private async syncFrom(src: HeaderSource): Promise<number> {
    const theirs = await src.headNumber()
    if (this.follower) return this.syncFollowing(this.follower, src, theirs)
    const ours = this.headers.head.header.height
    const { height: fork, header: atFork } = await this.forkPoint(src, theirs < ours ? theirs : ours)
    this.sourceHeads.delete(src.url)
    if (fork >= theirs) {
      if (atFork) this.sourceHeads.set(src.url, atFork) // its head is a header we verified: on the best chain or not
      return 0
    }
    let added = 0
    const last = theirs < fork + BigInt(MAX_HEADERS_PER_ROUND) ? theirs : fork + BigInt(MAX_HEADERS_PER_ROUND)
    let lastPrint = Date.now()
    for (let from = fork + 1n; from <= last; from += BigInt(MAX_BATCH)) {
      const to = from + BigInt(MAX_BATCH) - 1n < last ? from + BigInt(MAX_BATCH) - 1n : last
      const headers = await src.headers(from, to)
      if (headers.length === 0) break
      const outcome = this.headers.add(headers)
      added += outcome.added
      if (outcome.tip.header.height === theirs) this.sourceHeads.set(src.url, outcome.tip)
      if (this.o.progress && Date.now() - lastPrint >= 1000) {
        lastPrint = Date.now()
        this.o.progress(`headers: ${to}/${theirs} from ${src.url} (${(Number(to - fork) / Number(last - fork) * 100).toFixed(1)}%)`)
      }
    }
    if (this.o.progress && added > 0) this.o.progress(`headers: ${last}/${theirs} from ${src.url}, head ${this.headers.head.header.height}`)
    return added
  }

  /** After a round, sources disagreeing on the head: the consensus rule picked (most work); the disagreement is reported. */
  private noteConflicts(): void {
    const present = new Set(this.headerSources.map((s) => s.url))
    for (const url of this.sourceHeads.keys()) if (!present.has(url)) this.sourceHeads.delete(url)
    for (const url of this.conflicts.keys()) if (!present.has(url)) this.conflicts.delete(url)
    for (const src of this.headerSources) {
      const their = this.sourceHeads.get(src.url)
      if (!their || this.headers.isBest(their.hash)) {
        this.conflicts.delete(src.url)
        continue
      }
      if (!this.conflicts.has(src.url)) {
        this.o.log.warn({ source: src.url, height: String(their.header.height), head: String(this.headers.head.header.height) }, 'a source follows another branch, with less work: the head stays on the heavier one')
      }
      this.conflicts.set(src.url, { source: src.url, height: `0x${their.header.height.toString(16)}`, hash: bytesToHex(their.hash), at: Date.now() })
    }
  }

  /** Engines with a follower: the source's headers past the head, proven, with progress lines. */
  private async syncFollowing(follower: HeaderFollower, src: HeaderSource, theirs: bigint): Promise<number> {
    const start = this.headers.head.header.height
    let lastPrint = Date.now()
    const added = await follower.syncFrom(src, theirs, BigInt(MAX_HEADERS_PER_ROUND), (at) => {
      if (!this.o.progress || Date.now() - lastPrint < 1000) return
      lastPrint = Date.now()
      this.o.progress(`headers: ${at}/${theirs} from ${src.url} (${(Number(at - start) / Number(theirs - start) * 100).toFixed(1)}%)`)
    })
    if (this.o.progress && added > 0) this.o.progress(`headers: ${this.headers.head.header.height}/${theirs} from ${src.url}, head ${this.headers.head.header.height} (${follower.summary()})`)
    return added
  }

  /** The highest height at or below `from` where the source's header is one we verified (the checkpoint at worst), and that header. */
  private async forkPoint(src: HeaderSource, from: bigint): Promise<{ height: bigint; header?: VerifiedHeader }> {
    const floor = this.headers.checkpoint.header.height
    let step = 1n
    for (let h = from; ; ) {
      if (h <= floor) return { height: floor }
      const [header] = await src.headers(h, h)
      const known = header && this.headers.get(blockHash(header))
      if (known) return { height: h, header: known }
      h = h - step > floor ? h - step : floor
      step *= 2n
    }
  }

  private lie(src: { url: string }, what: string): void {
    this.lies.push({ source: src.url, at: Date.now(), what })
    if (this.lies.length > 1000) this.lies.shift()
    this.o.log.warn({ source: src.url }, `a source lied: ${what}`)
  }

  /**
   * Asks the sources in turn until one answer checks: `ask` fetches, `check` verifies (throws
   * ProofError or VerificationError). Every failed check is a lie recorded against its source;
   * if none checks, the error names each source's failure.
   */
  async verified<A, R>(what: string, ask: (src: RpcSource) => Promise<A>, check: (answer: A, src: RpcSource) => Promise<R> | R): Promise<R> {
    const failures: string[] = []
    for (const src of this.o.sources) {
      let answer: A
      try {
        answer = await ask(src)
      } catch (err) {
        failures.push((err as Error).message)
        continue
      }
      try {
        return await check(answer, src)
      } catch (err) {
        if (!(err instanceof ProofError || err instanceof VerificationError || err instanceof BlockError)) throw err
        const message = `${what} from ${src.url}: ${err.message}`
        this.lie(src, message)
        failures.push(message)
      }
    }
    throw new VerificationError(failures.length === 1 ? failures[0]! : `no source gave a verified answer for ${what}: ${failures.join('; ')}`)
  }

  /** The account at a verified header, proven against its state root (with the given slots). */
  async account(address: Uint8Array, at: VerifiedHeader, slots: Uint8Array[] = []): Promise<VerifiedAccount> {
    const what = `the proof of ${bytesToHex(address)} at block ${at.header.height}`
    return this.verified(
      what,
      (src) => src.call<AccountProofJSON>('eth_getProof', [bytesToHex(address), slots.map((s) => bytesToHex(s)), { blockHash: bytesToHex(at.hash) }]),
      async (p) => {
        try {
          return await verifyAccountProof(at.header.stateRoot, address, p)
        } catch (err) {
          if (err instanceof ProofError) throw new ProofError(`${err.message} (state root of block ${at.header.height})`)
          throw err
        }
      },
    )
  }

  /** A contract's code, checked against the proven code hash. */
  async code(address: Uint8Array, at: VerifiedHeader): Promise<Uint8Array> {
    const account = await this.account(address, at)
    if (equalsBytes(account.codeHash, keccak256(new Uint8Array(0)))) return new Uint8Array(0)
    return this.verified(
      `the code of ${bytesToHex(address)} at block ${at.header.height}`,
      (src) => src.call<Hex>('eth_getCode', [bytesToHex(address), { blockHash: bytesToHex(at.hash) }]),
      (hex) => {
        const code = hexToBytes(hex)
        if (!equalsBytes(keccak256(code), account.codeHash)) throw new VerificationError(`the code does not hash to the proven code hash ${bytesToHex(account.codeHash)}`)
        return code
      },
    )
  }

  /** A verified block's txs and receipts, each list re-hashed to the header's root. */
  async block(at: VerifiedHeader): Promise<VerifiedBlockData> {
    const key = bytesToHex(at.hash)
    const cached = this.blocks.get(key)
    if (cached) return cached
    const common = commonAt(this.o.commons, at.header.height)
    const txs = await this.verified(
      `the txs of block ${at.header.height}`,
      (src) => src.call<Hex[] | null>('catena_getBlockBody', [{ blockHash: key }]),
      (raws) => {
        if (!Array.isArray(raws)) throw new VerificationError('no body')
        const bytes = raws.map((r) => hexToBytes(r))
        if (!equalsBytes(merkleRoot(bytes), at.header.txRoot)) throw new VerificationError(`the txs do not hash to the tx root ${bytesToHex(at.header.txRoot)}`)
        return decodeTxs(bytes, common)
      },
    )
    const receipts = await this.verified(
      `the receipts of block ${at.header.height}`,
      (src) => src.call<ReceiptJSON[] | null>('eth_getBlockReceipts', [{ blockHash: key }]),
      (list) => {
        if (!Array.isArray(list) || list.length !== txs.length) throw new VerificationError(`${Array.isArray(list) ? list.length : 'no'} receipts for ${txs.length} txs`)
        const receipts = list.map(receiptOf)
        if (!equalsBytes(merkleRoot(receipts.map(encodeReceipt)), at.header.receiptsRoot)) throw new VerificationError(`the receipts do not hash to the receipts root ${bytesToHex(at.header.receiptsRoot)}`)
        return receipts
      },
    )
    const data = { header: at, txs, receipts }
    this.blocks.set(key, data)
    if (this.blocks.size > BLOCK_CACHE) this.blocks.delete(this.blocks.keys().next().value!)
    return data
  }

  /** Where a source says a tx is: checked by its inclusion in a verified block on the best chain. */
  async txLocation(hash: Uint8Array): Promise<{ block: VerifiedBlockData; index: number } | null> {
    const found = await this.verified(
      `the location of tx ${bytesToHex(hash)}`,
      (src) => src.call<{ blockHash: Hex; index: Hex } | null>('catena_getTransactionProof', [bytesToHex(hash)]),
      async (p) => {
        if (p === null) return null
        const header = this.headers.get(hexToBytes(p.blockHash))
        // In a block we have not verified (newer, or another branch): not an answer we can check yet.
        if (!header || !this.headers.isBest(header.hash)) return null
        const block = await this.block(header)
        const index = Number(p.index)
        if (!Number.isSafeInteger(index) || !block.txs[index] || !equalsBytes(block.txs[index]!.hash(), hash)) throw new VerificationError(`tx ${bytesToHex(hash)} is not at index ${p.index} of block ${header.header.height}`)
        return { block, index }
      },
    )
    return found
  }
}

interface ReceiptJSON {
  type: Hex
  status: Hex
  cumulativeGasUsed: Hex
  logs: Array<{ address: Hex; topics: Hex[]; data: Hex }>
}

function receiptOf(j: ReceiptJSON): Receipt {
  if (typeof j !== 'object' || j === null || !Array.isArray(j.logs)) throw new VerificationError('a receipt is not an object with logs')
  const status = BigInt(j.status)
  if (status !== 0n && status !== 1n) throw new VerificationError(`a receipt status is ${j.status}`)
  return {
    type: Number(BigInt(j.type)),
    status: status === 1n ? 1 : 0,
    cumulativeGasUsed: BigInt(j.cumulativeGasUsed),
    logs: j.logs.map((l) => ({ address: hexToBytes(l.address), topics: l.topics.map((t) => hexToBytes(t)), data: hexToBytes(l.data) })),
  }
}

export { SourceError }
