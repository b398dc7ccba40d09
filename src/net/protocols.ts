/**
 * Names on the wire: request/response protocol ids and gossip topics, with their size limits.
 *
 * Every id but the status handshake's carries a tag of the chain (the first 8 bytes of the
 * genesis hash), so nodes of different chains never even negotiate a sync protocol or share a
 * topic. The status protocol has no tag on purpose: two nodes of different chains must still be
 * able to exchange statuses, so each can say clearly why it drops the other.
 * @module
 */
import { NetError } from './errors.ts'

/**
 * Request/response protocols. The network serves 'status' (handshake) and 'peers' (peer
 * exchange) itself; the sync and light-client layers register handlers for the others.
 */
export const REQRESP_PROTOCOLS = [
  'status',
  'peers',
  'headersByRange',
  'headersByLocator',
  'blocksByRange',
  'blocksByHash',
  'proposedBlock',
  'stateProof',
  'validatorIdentity',
  'txForward',
] as const
export type ReqRespProtocol = (typeof REQRESP_PROTOCOLS)[number]

/** The protocols other layers serve. */
export type ServedProtocol = Exclude<ReqRespProtocol, 'status' | 'peers'>
export const NETWORK_PROTOCOLS: readonly ReqRespProtocol[] = ['status', 'peers']

/** Gossip topics. */
export const GOSSIP_TOPICS = ['txs', 'blocks', 'consensus'] as const
export type GossipTopic = (typeof GOSSIP_TOPICS)[number]

export interface ReqRespLimits {
  /** Largest request payload accepted, in bytes. */
  maxRequestBytes: number
  /** Largest response payload accepted, in bytes (the status byte comes on top). */
  maxResponseBytes: number
}

const KiB = 1024
const MiB = 1024 * KiB

/** Limits per protocol. A range request is two integers; responses hold many headers or blocks. */
export const DEFAULT_REQRESP_LIMITS: Readonly<Record<ReqRespProtocol, ReqRespLimits>> = {
  status: { maxRequestBytes: 256, maxResponseBytes: 256 },
  peers: { maxRequestBytes: 16, maxResponseBytes: 64 * KiB },
  /** Light clients over libp2p: RLP [from, count] in (count up to 1,024), canonical headers out (served up to 3 MiB). */
  headersByRange: { maxRequestBytes: 256, maxResponseBytes: 4 * MiB },
  /** Headers-first sync (Bitcoin's getheaders): a block locator of up to 64 hashes in, up to 1,024 headers out. */
  headersByLocator: { maxRequestBytes: 4 * KiB, maxResponseBytes: 4 * MiB },
  blocksByRange: { maxRequestBytes: 256, maxResponseBytes: 16 * MiB },
  blocksByHash: { maxRequestBytes: 64 * KiB, maxResponseBytes: 16 * MiB },
  /** A BFT proposal's block by hash: one hash in, one block out. */
  proposedBlock: { maxRequestBytes: 64, maxResponseBytes: 16 * MiB },
  stateProof: { maxRequestBytes: 16 * KiB, maxResponseBytes: 4 * MiB },
  /** Who a peer is as a validator (chains that forward txs to leaders): nothing in, RLP [address, signature] out. */
  validatorIdentity: { maxRequestBytes: 16, maxResponseBytes: 256 },
  /** A tx batch sent to a leader: as big as a tx gossip message; the answer is only a status. */
  txForward: { maxRequestBytes: 1 * MiB, maxResponseBytes: 256 },
}

/** Largest gossip message per topic, in bytes: txs travel in batches, blocks up to the byte limit. */
export const DEFAULT_TOPIC_LIMITS: Readonly<Record<GossipTopic, number>> = {
  txs: 1 * MiB,
  blocks: 8 * MiB,
  consensus: 64 * KiB,
}

/**
 * The largest payload worth gossiping whole: js-gossipsub length-prefixes every RPC frame with
 * it-length-prefixed's default limit (4 MiB) and cannot send a bigger one, whatever the topic
 * limit says. Larger blocks travel by request/response (whose frames follow the protocol
 * limits) and are only named in gossip.
 */
export const GOSSIP_INLINE_BYTES = 3 * MiB

const STATUS_PROTOCOL_ID = '/catena/status/1'
/**
 * Version of every chain-tagged protocol and topic. 2: blocks travel with their import proof
 * (RLP [header, body, proof]); consensus proposals carry their block, which is also fetched by
 * hash (proposedBlock), and want/decided broadcasts are gone.
 */
const WIRE_VERSION = 2

/** The chain tag: hex of the first 8 bytes of the genesis hash. */
export function chainTag(genesisHash: Uint8Array): string {
  if (genesisHash.length !== 32) throw new NetError('BAD_CONFIG', `genesis hash must be 32 bytes, got ${genesisHash.length}`)
  return Buffer.from(genesisHash.subarray(0, 8)).toString('hex')
}

/** The libp2p protocol id of a request/response protocol on the chain with tag `tag`. */
export function protocolId(tag: string, name: ReqRespProtocol): string {
  assertProtocol(name)
  return name === 'status' ? STATUS_PROTOCOL_ID : `/catena/${tag}/${name}/${WIRE_VERSION}`
}

/** The gossipsub topic string of a topic on the chain with tag `tag`. */
export function topicId(tag: string, name: GossipTopic): string {
  assertTopic(name)
  return `/catena/${tag}/${name}/${WIRE_VERSION}`
}

export function assertProtocol(name: string): asserts name is ReqRespProtocol {
  if (!(REQRESP_PROTOCOLS as readonly string[]).includes(name)) {
    throw new NetError('UNKNOWN_PROTOCOL', `unknown request/response protocol "${name}" (known: ${REQRESP_PROTOCOLS.join(', ')})`)
  }
}

export function assertTopic(name: string): asserts name is GossipTopic {
  if (!(GOSSIP_TOPICS as readonly string[]).includes(name)) {
    throw new NetError('UNKNOWN_TOPIC', `unknown gossip topic "${name}" (known: ${GOSSIP_TOPICS.join(', ')})`)
  }
}
