/**
 * What the eth_ namespace needs from the node, and the shared lookups (block by tag,
 * number or hash; state at a block) that every handler uses.
 */
import type { Finality } from '../../chain/rules.ts'
import { bytesToHex } from '@ethereumjs/util'
import type { Account, Address } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Chain, ChainHead } from '../../chain/chain.ts'
import type { BlockHeader } from '../../chain/block.ts'
import type { BlockWork } from './format.ts'
import type { CallGas, CallService } from '../../execution/index.ts'
import type { WorldState } from '../../state/index.ts'
import { invalidParams, serverError } from '../rpc/errors.ts'
import type { BlockNumberOrTag, BlockRef } from '../rpc/params.ts'

export interface MempoolView {
  add(raw: Uint8Array): Promise<{ hash: Uint8Array; status: 'pending' | 'queued' }>
  get(hash: Uint8Array): { tx: TypedTransaction } | undefined
  nextNonce(sender: Address): Promise<bigint>
}

export interface EthBackend {
  chain: Chain
  common: Common
  mempool: MempoolView
  /** Runs eth_call / eth_estimateGas / eth_createAccessList (on worker threads in the node). */
  calls: CallService
  clientVersion: string
  /** The engine's finality rule at the head: the "finalized" and "safe" tags (the head on dev and BFT chains). */
  finality(): Finality
  /** Gas of eth_call / eth_estimateGas: the default (the block gas limit) and the cap (--rpc-gascap). */
  callGas(): CallGas
  /** Tip suggested by eth_maxPriorityFeePerGas. */
  suggestedTip(): bigint
  peerCount(): number
  /** Base fee of the block that would be built on the head now. */
  nextBaseFee(): bigint
  /** The state at a root for reads (shared by consecutive reads at the same root). */
  worldAt(stateRoot: Uint8Array): WorldState
  /** An account at a state root (served from the head state cache when possible). */
  readAccount(stateRoot: Uint8Array, address: Address): Promise<Account | undefined>
  /** Resolves when eth_sendRawTransaction may answer (the engine decides: see ConsensusEngine.txSubmitted). */
  txSubmitted(hash: Uint8Array, status: 'pending' | 'queued'): Promise<void>
  /** PoW: a block's difficulty and the total work of its chain (for `difficulty` / `totalDifficulty`). */
  blockWork?(hash: Uint8Array, header: BlockHeader): BlockWork
}

export interface ResolvedBlock {
  hash: Uint8Array
  header: BlockHeader
}

export function resolveNumberOrTag(b: EthBackend, ref: BlockNumberOrTag): ResolvedBlock | undefined {
  const chain = b.chain
  let height: bigint
  if ('tag' in ref) {
    switch (ref.tag) {
      case 'earliest':
        height = 0n
        break
      case 'safe':
        height = b.finality().safe
        break
      case 'finalized':
        height = b.finality().finalized
        break
      default: // latest, and pending: Catena serves the head for pending blocks
        return headBlock(chain.head)
    }
  } else {
    height = ref.number
  }
  const hash = chain.getHashAt(height)
  if (!hash) return undefined
  return { hash, header: chain.getHeader(hash)! }
}

export function resolveBlockRef(b: EthBackend, ref: BlockRef): ResolvedBlock | undefined {
  if ('hash' in ref) {
    const header = b.chain.getHeader(ref.hash)
    if (!header) return undefined
    if (ref.requireCanonical && !b.chain.isCanonical(ref.hash)) return undefined
    return { hash: ref.hash, header }
  }
  return resolveNumberOrTag(b, ref)
}

/** Like resolveBlockRef, but a missing block is an error (state queries need one). */
export function requireBlock(b: EthBackend, ref: BlockRef): ResolvedBlock {
  const block = resolveBlockRef(b, ref)
  if (block) return block
  if ('hash' in ref) throw serverError(`header for hash ${bytesToHex(ref.hash)} not found`)
  if ('number' in ref) throw serverError(`header for block ${ref.number} not found (head is ${b.chain.head.header.height})`)
  throw invalidParams('block not found')
}

export function stateAt(b: EthBackend, block: ResolvedBlock): WorldState {
  return b.worldAt(block.header.stateRoot)
}

function headBlock(head: ChainHead): ResolvedBlock {
  return { hash: head.hash, header: head.header }
}
