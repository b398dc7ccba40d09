/**
 * Where a light client gets headers from: a full node's JSON-RPC (RpcHeaderSource, the
 * catena_getHeader / catena_getCommit methods) or a peer over libp2p. A source is not
 * trusted: it decodes what it is given (shape only) and hands it to the client, which
 * verifies it by the chain's consensus rules. Answers are bounded by the transport.
 * @module
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { decodeHeader, type BlockHeader } from '../../chain/block.ts'
import { BlockError } from '../../chain/errors.ts'
import { MAX_BATCH, type RpcSource } from './source.ts'

type Hex = `0x${string}`

export interface HeaderSource {
  /** How the source is named in logs, errors and catena_lightStatus. */
  readonly url: string
  /** The height of its head, as it claims. */
  headNumber(): Promise<bigint>
  /** Its headers `from..to` by number, in order (fewer when it has fewer; at most MAX_BATCH). */
  headers(from: bigint, to: bigint): Promise<BlockHeader[]>
  headerByHash(hash: Uint8Array): Promise<BlockHeader | undefined>
  /** The proof that made block `height` final, as its engine encodes it (BFT: the commit certificate); null when it has none. */
  finalityProof(height: bigint): Promise<Uint8Array | null>
}

/** Largest header accepted, hex (a header is a few hundred bytes; a BFT seal holds a certificate). */
const MAX_HEADER_HEX = 1_000_000

export class RpcHeaderSource implements HeaderSource {
  constructor(readonly rpc: RpcSource) {}

  get url(): string {
    return this.rpc.url
  }

  async headNumber(): Promise<bigint> {
    const n = await this.rpc.call<unknown>('eth_blockNumber', [])
    if (typeof n !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(n)) throw new BlockError('MALFORMED', `${this.url} answered eth_blockNumber with ${JSON.stringify(n)?.slice(0, 80)}`)
    return BigInt(n)
  }

  async headers(from: bigint, to: bigint): Promise<BlockHeader[]> {
    const calls: Array<[string, unknown[]]> = []
    for (let h = from; h <= to && calls.length < MAX_BATCH; h++) calls.push(['catena_getHeader', [`0x${h.toString(16)}`]])
    const raws = await this.rpc.batch<unknown>(calls)
    const out: BlockHeader[] = []
    for (const raw of raws) {
      if (raw === null) break // its head moved down meanwhile: take what came
      out.push(this.decode(raw))
    }
    return out
  }

  async headerByHash(hash: Uint8Array): Promise<BlockHeader | undefined> {
    const raw = await this.rpc.call<unknown>('catena_getHeader', [bytesToHex(hash)])
    return raw === null ? undefined : this.decode(raw)
  }

  async finalityProof(height: bigint): Promise<Uint8Array | null> {
    const answer = await this.rpc.call<{ certificate?: unknown } | null>('catena_getCommit', [`0x${height.toString(16)}`])
    if (answer === null) return null
    const cert = answer?.certificate
    if (typeof cert !== 'string' || !/^0x[0-9a-fA-F]*$/.test(cert) || cert.length > MAX_HEADER_HEX) throw new BlockError('MALFORMED', `${this.url} sent a commit for block ${height} that is not hex`)
    return hexToBytes(cert as Hex)
  }

  private decode(raw: unknown): BlockHeader {
    if (typeof raw !== 'string' || !/^0x[0-9a-fA-F]*$/.test(raw) || raw.length > MAX_HEADER_HEX) throw new BlockError('MALFORMED', `${this.url} sent a header that is not hex`)
    return decodeHeader(hexToBytes(raw as Hex))
  }
}
