/**
 * What the REST API is built from (RestApiOptions, given by the node) and what its route
 * modules share (RestContext).
 * @module
 */
import type { Account, Address } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Chain } from '../../chain/chain.ts'
import type { Mempool } from '../../mempool/pool.ts'
import type { BanEntry, PeerInfo } from '../../net/index.ts'
import type { AlertBook, AlertThresholds } from './alerts.ts'
import type { ApiKeys } from './auth.ts'
import type { ConsensusView, EngineLike } from './consensus-view.ts'
import type { BanSource, ChainMonitor } from './monitor.ts'
import type { ChainView } from './view.ts'

/** The network as the REST API uses it (the node's Network fits). */
export interface PeerNetwork extends BanSource {
  peers(): PeerInfo[]
  bans(): BanEntry[]
  ban(peer: string, reason: string, ms?: number): BanEntry
  unban(peer: string): boolean
  /** Dials an address (an operator's addPeer) and resolves with the peer id once the handshake completed. */
  connect(addr: string): Promise<string>
}

export interface RestApiOptions {
  chain: Chain
  mempool: Mempool
  engine: EngineLike
  /** Absent when networking is off. */
  network?: PeerNetwork
  /** An account at a state root (the head's for /v1/accounts). */
  readAccount(stateRoot: Uint8Array, address: Address): Promise<Account | undefined>
  /** Contract code at a state root (empty for accounts without code). */
  readCode(stateRoot: Uint8Array, address: Address): Promise<Uint8Array>
  logger: Logger
  clientVersion?: string
  /** Keys that open the admin routes (see loadApiKeys); none = admin routes closed. */
  apiKeys?: readonly string[]
  /**
   * Requests per minute per client IP under /v1; 0 turns the limit off. Default: the
   * CATENA_REST_RATE_LIMIT environment variable, else 600. Requests with a valid API key
   * are not limited.
   */
  rateLimitPerMinute?: number
  /**
   * Runs a call on top of the head as eth_call does (POST /v1/admin/permissions checks a
   * governance tx with it before submitting, so a refusal names the contract's reason).
   */
  callAtHead?(req: { from: Uint8Array; to: Uint8Array; data: Uint8Array; value: bigint }): Promise<{ success: boolean; returnValue: Uint8Array }>
  /** POST /v1/admin/shutdown calls this after answering; without it the route answers 503. */
  shutdown?: () => unknown
  /** Alert thresholds (defaults in alerts.ts). */
  thresholds?: Partial<AlertThresholds>
  /** Unix ms; injectable for tests. */
  now?: () => number
}

export interface RestContext {
  opts: RestApiOptions
  chain: Chain
  mempool: Mempool
  network?: PeerNetwork
  view: ChainView
  consensus: ConsensusView
  monitor: ChainMonitor
  alerts: AlertBook
  keys: ApiKeys
  now: () => number
}
