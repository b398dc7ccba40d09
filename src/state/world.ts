/**
 * World state at a given root: ethereumjs's MerkleStateManager over Catena's store, used
 * for reads at any historical block, for EIP-1186 proofs, and to write the accumulated
 * changes of a block into the trie once (see overlay.ts).
 */
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { MerkleStateManager, getMerkleStateProof } from '@ethereumjs/statemanager'
import { Address, KECCAK256_RLP, ValueEncoding } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import type { KeyValueStore } from '../storage/index.ts'
import { TrieNodeDB } from './trie-db.ts'

export const EMPTY_STATE_ROOT = KECCAK256_RLP

export interface WorldState {
  readonly root: Uint8Array
  readonly manager: MerkleStateManager
  readonly db: TrieNodeDB
}

/**
 * The ethereumjs trie and state manager (~60 µs to set up) are made on first use: executing a
 * block reads the state through Catena's own batch trie (db) and needs the manager only to load
 * contract code, so a block of plain transfers never builds them.
 */
export function openWorldState(store: KeyValueStore, root: Uint8Array, common: Common): WorldState {
  const db = new TrieNodeDB(store)
  let manager: MerkleStateManager | undefined
  return {
    root,
    db,
    get manager(): MerkleStateManager {
      manager ??= new MerkleStateManager({ trie: new MerklePatriciaTrie({ db, root, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes, common }), common })
      return manager
    },
  }
}

export type AccountProof = Awaited<ReturnType<typeof getMerkleStateProof>>

export async function getAccountProof(world: WorldState, address: Uint8Array, slots: Uint8Array[]): Promise<AccountProof> {
  return getMerkleStateProof(world.manager, new Address(address), slots)
}

