export { OverlayState } from './overlay.ts'
export { openWorldState, hasStateRoot, getAccountProof, EMPTY_STATE_ROOT } from './world.ts'
export type { WorldState, AccountProof } from './world.ts'
export { TrieNodeDB } from './trie-db.ts'
