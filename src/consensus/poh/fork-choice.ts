/**
 * Fork choice and confirmation levels of the PoH chain, over the tree of blocks above the
 * root (Solana's HeaviestSubtreeForkChoice plus its commitment levels).
 *
 * - Blocks are keyed by hash (two blocks of one slot by a double-signing leader are two
 *   nodes); each names its slot and its parent's hash.
 * - Votes: the latest vote of each validator counts (a later slot replaces an earlier one),
 *   for its block and every ancestor. A node's weight is the stake of the validators whose
 *   latest vote is in its subtree. Votes for blocks not seen yet wait (one per validator)
 *   and count once the block arrives.
 * - Head: from the finalized block (or the tree's root) down, the child of greatest weight,
 *   ties to the lower slot then the lower hash, until a leaf.
 * - Confirmed (optimistic confirmation, RPC `safe`): a block for which validators with MORE
 *   than 2/3 of the stake voted, for it or a descendant, at the same time (their latest
 *   votes as of a read). Once reached it stays (a later vote elsewhere does not unconfirm it); exactly
 *   2/3 is not enough. `confirmed()` is the highest confirmed block on the head's branch.
 * - Finalized (rooted, RPC `finalized`): a block that validators with MORE than 2/3 of the
 *   stake have rooted: the root their latest vote carries is that block or a descendant.
 *   This is Solana's `finalized` commitment (the highest super-majority root), and the
 *   conservative choice: a node's own tower root says only that this one validator will
 *   not leave the fork; a super-majority root says that no fork without the block can
 *   gather the votes to be confirmed unless more than 1/3 of the stake broke its lockouts.
 *   Non-voting nodes compute it the same way. It never moves backwards or sideways: a
 *   super-majority root on another branch than the finalized block (possible only if more
 *   than 1/3 of the stake misbehaved) is reported (`conflict`) and ignored.
 * - Stakes: one StakeSet (the current epoch's); `setStakes` at an epoch change re-weighs the
 *   latest votes. Confirmed and finalized marks already reached stay.
 * - Pruning: `prune(hash)` makes a block the new root and drops every block that does not
 *   descend from it (the engine calls it with the finalized block, or with its tower root).
 * - Bounds: at most `maxBlocks` blocks (TOO_MANY_BLOCKS beyond), one latest vote per staked
 *   validator. A vote costs O(1) plus the walk from its block down to its root (to check the
 *   root is on the branch); weights, marks and finality are brought up to date in one
 *   O(blocks) pass when a reader asks (head, confirmed, finalized, votedStake), so a slot
 *   with thousands of votes costs one pass, not one per vote, even when finality stalls and
 *   the tree grows deep. Confirmed and finalized are thus judged at read time: a
 *   super-majority that existed only between two reads is not seen (the safe side).
 * @module
 */
import { ForkChoiceError } from './voting-errors.ts'
import type { StakeSet } from './stake-set.ts'
import { HASH_LENGTH, compareBytes, isBytes, isSlot, toKey } from './vote-codec.ts'

export const DEFAULT_MAX_BLOCKS = 8192

export interface BlockRef {
  slot: bigint
  hash: Uint8Array
}

export interface ForkBlock extends BlockRef {
  parentHash: Uint8Array
}

/** What fork choice needs of a verified vote. */
export interface ForkVote {
  voter: Uint8Array
  slot: bigint
  hash: Uint8Array
  /** The root the vote's tower carries. */
  root: bigint | null
}

export type VoteOutcome =
  | 'applied' // counts now
  | 'pending' // its block is unknown: counts once the block is added
  | 'stale' // not newer than the voter's latest vote, or at/below the tree's root
  | 'no-stake' // the voter holds no stake in the current set

export interface Finality {
  head: BlockRef
  confirmed: BlockRef
  finalized: BlockRef
}

interface Node {
  slot: bigint
  hash: Uint8Array
  key: string
  parent: Node | null
  children: Node[]
  /** Stake of the validators whose latest vote is this block. */
  ownVote: bigint
  /** Stake of the validators whose latest root is this block. */
  ownRoot: bigint
  /** ownVote summed over the subtree (valid after refresh). */
  voteStake: bigint
  /** ownRoot summed over the subtree (valid after refresh). */
  rootStake: bigint
  confirmed: boolean
}

interface LatestVote {
  slot: bigint
  hashKey: string
  root: bigint | null
  /** Where its stake is counted; undefined while pending or after its block was pruned. */
  node?: Node
  rootNode?: Node
  stake: bigint
}

export interface ForkChoiceOptions {
  maxBlocks?: number
}

export class ForkChoice {
  private readonly nodes = new Map<string, Node>()
  private rootNode: Node
  private stakes: StakeSet
  private readonly latest = new Map<string, LatestVote>()
  /** Voters (keys) whose latest vote waits for a block, by block hash key. */
  private readonly pending = new Map<string, Set<string>>()
  private finalizedRef: BlockRef
  private readonly maxBlocks: number
  private conflictRef: BlockRef | undefined
  /** Votes, blocks or stakes changed since the last refresh. */
  private dirty = false

  constructor(root: BlockRef, stakes: StakeSet, opts: ForkChoiceOptions = {}) {
    checkRef(root)
    this.maxBlocks = opts.maxBlocks ?? DEFAULT_MAX_BLOCKS
    if (!Number.isSafeInteger(this.maxBlocks) || this.maxBlocks < 1) throw new ForkChoiceError('MALFORMED', 'maxBlocks must be a positive integer')
    this.rootNode = this.makeNode(root.slot, root.hash, null)
    this.rootNode.confirmed = true
    this.nodes.set(this.rootNode.key, this.rootNode)
    this.stakes = stakes
    this.finalizedRef = { slot: root.slot, hash: Uint8Array.from(root.hash) }
  }

  get size(): number {
    return this.nodes.size
  }

  /** Latest votes waiting for their block (at most one per staked validator). */
  get pendingCount(): number {
    let n = 0
    for (const set of this.pending.values()) n += set.size
    return n
  }

  /** A super-majority root seen off the finalized branch (more than 1/3 misbehaved), if any. */
  get conflict(): BlockRef | undefined {
    this.refresh()
    return this.conflictRef
  }

  get root(): BlockRef {
    return ref(this.rootNode)
  }

  has(hash: Uint8Array): boolean {
    return isBytes(hash, HASH_LENGTH) && this.nodes.has(toKey(hash))
  }

  /**
   * Adds a block whose parent is in the tree. Re-adding a known block is a no-op; errors
   * change nothing. Latest votes waiting for this block start counting.
   */
  addBlock(b: ForkBlock): void {
    checkRef(b)
    if (!isBytes(b.parentHash, HASH_LENGTH)) throw new ForkChoiceError('MALFORMED', `parent hash must be ${HASH_LENGTH} bytes`)
    const key = toKey(b.hash)
    const known = this.nodes.get(key)
    if (known) {
      if (known.slot !== b.slot || toKey(known.parent?.hash ?? new Uint8Array()) !== toKey(b.parentHash)) {
        throw new ForkChoiceError('MALFORMED', `block 0x${key} is already known with another slot or parent`)
      }
      return
    }
    if (b.slot <= this.rootNode.slot) throw new ForkChoiceError('BELOW_ROOT', `block at slot ${b.slot} is at or below the root slot ${this.rootNode.slot}`)
    const parent = this.nodes.get(toKey(b.parentHash))
    if (!parent) throw new ForkChoiceError('UNKNOWN_PARENT', `parent 0x${toKey(b.parentHash)} of slot ${b.slot} is not in the tree`)
    if (b.slot <= parent.slot) throw new ForkChoiceError('SLOT_NOT_AFTER_PARENT', `block slot ${b.slot} is not after its parent's slot ${parent.slot}`)
    if (this.nodes.size >= this.maxBlocks) throw new ForkChoiceError('TOO_MANY_BLOCKS', `the fork tree holds ${this.maxBlocks} blocks: prune it first`)
    const node = this.makeNode(b.slot, b.hash, parent)
    parent.children.push(node)
    this.nodes.set(key, node)
    const waiting = this.pending.get(key)
    if (waiting) {
      this.pending.delete(key)
      for (const voter of waiting) {
        const v = this.latest.get(voter)
        if (v && v.hashKey === key && !v.node) this.place(v, node)
      }
    }
  }

  /**
   * Counts a verified vote (signature, stake and slot window checked by verifyPohVote: a
   * staked validator's signed vote for a far-future slot would otherwise wait here and make
   * its later votes stale). A vote whose block
   * is known with another slot, or whose root is not on its block's branch, is refused
   * (ForkChoiceError, nothing changes): a validator never signs such a vote honestly.
   */
  applyVote(v: ForkVote): VoteOutcome {
    if (!v || !isBytes(v.voter) || !isSlot(v.slot) || !isBytes(v.hash, HASH_LENGTH) || (v.root !== null && !isSlot(v.root))) {
      throw new ForkChoiceError('MALFORMED', 'vote must have a voter, a slot, a 32-byte hash and a root slot or null')
    }
    const stake = this.stakes.stakeOf(v.voter)
    if (stake === 0n) return 'no-stake'
    const voter = toKey(v.voter)
    const previous = this.latest.get(voter)
    if (previous && v.slot <= previous.slot) return 'stale'
    if (v.slot <= this.rootNode.slot) return 'stale'
    const hashKey = toKey(v.hash)
    const node = this.nodes.get(hashKey)
    if (node) {
      if (node.slot !== v.slot) throw new ForkChoiceError('SLOT_MISMATCH', `vote for slot ${v.slot} names block 0x${hashKey} of slot ${node.slot}`)
      this.rootOnBranch(node, v.root) // throws before anything changes
    }
    if (previous) this.unplace(voter, previous)
    const entry: LatestVote = { slot: v.slot, hashKey, root: v.root, stake }
    this.latest.set(voter, entry)
    if (node) {
      this.place(entry, node)
      return 'applied'
    }
    let set = this.pending.get(hashKey)
    if (!set) this.pending.set(hashKey, (set = new Set()))
    set.add(voter)
    return 'pending'
  }

  /** Replaces the stake set (a new epoch) and re-weighs every latest vote under it. */
  setStakes(stakes: StakeSet): void {
    for (const n of this.nodes.values()) {
      n.ownVote = 0n
      n.ownRoot = 0n
    }
    this.stakes = stakes
    this.dirty = true
    for (const [voter, v] of this.latest) {
      const stake = stakes.stakeOf(Buffer.from(voter, 'hex'))
      const node = v.node
      v.node = undefined
      v.rootNode = undefined
      if (stake === 0n) {
        this.latest.delete(voter)
        this.pending.get(v.hashKey)?.delete(voter)
        continue
      }
      v.stake = stake
      if (node) this.place(v, node)
    }
  }

  /** The head of the heaviest fork. */
  head(): BlockRef {
    this.refresh()
    let n = this.nodes.get(toKey(this.finalizedRef.hash)) ?? this.rootNode
    for (;;) {
      let best: Node | undefined
      for (const c of n.children) {
        if (!best || c.voteStake > best.voteStake || (c.voteStake === best.voteStake && (c.slot < best.slot || (c.slot === best.slot && compareBytes(c.hash, best.hash) < 0)))) best = c
      }
      if (!best) return ref(n)
      n = best
    }
  }

  /** The highest confirmed block on the head's branch (at least the finalized block). */
  confirmed(): BlockRef {
    const head = this.nodes.get(toKey(this.head().hash))!
    for (let n: Node | null = head; n; n = n.parent) {
      if (n.confirmed && n.slot >= this.finalizedRef.slot) return ref(n)
    }
    return this.finalized()
  }

  finalized(): BlockRef {
    this.refresh()
    return { slot: this.finalizedRef.slot, hash: Uint8Array.from(this.finalizedRef.hash) }
  }

  finality(): Finality {
    return { head: this.head(), confirmed: this.confirmed(), finalized: this.finalized() }
  }

  /** 'finalized', 'confirmed' or 'processed' (in the tree only); undefined if not in the tree. */
  commitment(hash: Uint8Array): 'finalized' | 'confirmed' | 'processed' | undefined {
    this.refresh()
    const n = isBytes(hash, HASH_LENGTH) ? this.nodes.get(toKey(hash)) : undefined
    if (!n) return undefined
    const fin = this.nodes.get(toKey(this.finalizedRef.hash))
    if (fin && this.isAncestorNode(n, fin)) return 'finalized'
    return n.confirmed ? 'confirmed' : 'processed'
  }

  /** Stake of the latest votes for `hash` or a descendant (0 if unknown). */
  votedStake(hash: Uint8Array): bigint {
    this.refresh()
    return (isBytes(hash, HASH_LENGTH) && this.nodes.get(toKey(hash))?.voteStake) || 0n
  }

  /** The slots of `hash` and its ancestors in the tree (down to the root): for Tower.canVote. */
  ancestorSlots(hash: Uint8Array): Set<bigint> {
    const n = isBytes(hash, HASH_LENGTH) ? this.nodes.get(toKey(hash)) : undefined
    if (!n) throw new ForkChoiceError('UNKNOWN_BLOCK', `block 0x${isBytes(hash) ? toKey(hash) : '?'} is not in the tree`)
    const out = new Set<bigint>()
    for (let p: Node | null = n.parent; p; p = p.parent) out.add(p.slot)
    return out
  }

  /** True when `ancestor` is `descendant` or one of its ancestors (both in the tree). */
  isAncestor(ancestor: Uint8Array, descendant: Uint8Array): boolean {
    const a = this.nodes.get(toKey(ancestor))
    const d = this.nodes.get(toKey(descendant))
    return !!a && !!d && this.isAncestorNode(a, d)
  }

  /**
   * Makes `hash` the root: every block that does not descend from it is dropped, with the
   * weight of the votes on them. It must be on the finalized block's branch (its ancestor
   * or descendant): a root beside the finalized block would drop it. Returns how many
   * blocks were dropped.
   */
  prune(hash: Uint8Array): number {
    const next = isBytes(hash, HASH_LENGTH) ? this.nodes.get(toKey(hash)) : undefined
    if (!next) throw new ForkChoiceError('UNKNOWN_BLOCK', 'the new root is not in the tree')
    if (next === this.rootNode) return 0
    const fin = this.nodes.get(toKey(this.finalizedRef.hash))
    if (fin && !this.isAncestorNode(fin, next) && !this.isAncestorNode(next, fin)) {
      throw new ForkChoiceError('NOT_A_DESCENDANT', `the new root (slot ${next.slot}) is not on the finalized block's branch (slot ${fin.slot})`)
    }
    const kept = new Set<Node>()
    const stack = [next]
    while (stack.length > 0) {
      const n = stack.pop()!
      kept.add(n)
      stack.push(...n.children)
    }
    let dropped = 0
    for (const [key, n] of this.nodes) {
      if (kept.has(n)) continue
      this.nodes.delete(key)
      dropped++
    }
    next.parent = null
    this.rootNode = next
    for (const v of this.latest.values()) {
      if (v.node && !kept.has(v.node)) v.node = undefined
      if (v.rootNode && !kept.has(v.rootNode)) v.rootNode = undefined
    }
    this.dirty = true
    for (const [key, voters] of this.pending) {
      for (const voter of voters) {
        const v = this.latest.get(voter)
        if (!v || v.slot <= next.slot) voters.delete(voter)
      }
      if (voters.size === 0) this.pending.delete(key)
    }
    return dropped
  }

  // ---------- internals ----------

  private makeNode(slot: bigint, hash: Uint8Array, parent: Node | null): Node {
    this.dirty = true
    return { slot, hash: Uint8Array.from(hash), key: toKey(hash), parent, children: [], ownVote: 0n, ownRoot: 0n, voteStake: 0n, rootStake: 0n, confirmed: false }
  }

  /** The tree node of the vote's root on `node`'s branch; undefined if below the tree. */
  private rootOnBranch(node: Node, root: bigint | null): Node | undefined {
    if (root === null || root < this.rootNode.slot) return undefined
    for (let n: Node | null = node; n; n = n.parent) {
      if (n.slot === root) return n
      if (n.slot < root) break
    }
    throw new ForkChoiceError('ROOT_NOT_ANCESTOR', `vote root ${root} is not a block on the branch of slot ${node.slot}`)
  }

  /** Counts `v` at `node` (its vote) and at its root's node. */
  private place(v: LatestVote, node: Node): void {
    let rootNode: Node | undefined
    try {
      rootNode = this.rootOnBranch(node, v.root)
    } catch {
      // A pending vote whose root turned out off its block's branch: it does not count.
      return
    }
    v.node = node
    node.ownVote += v.stake
    if (rootNode) {
      v.rootNode = rootNode
      rootNode.ownRoot += v.stake
    }
    this.dirty = true
  }

  private unplace(voter: string, v: LatestVote): void {
    if (v.node) v.node.ownVote -= v.stake
    if (v.rootNode) v.rootNode.ownRoot -= v.stake
    if (!v.node) {
      const set = this.pending.get(v.hashKey)
      set?.delete(voter)
      if (set && set.size === 0) this.pending.delete(v.hashKey)
    }
    v.node = undefined
    v.rootNode = undefined
    this.dirty = true
  }

  /**
   * Subtree sums in one pass: the tree map is in insertion order and a block is added after
   * its parent, so walking it backwards adds every child into its parent before the parent
   * is added into its own. Then the confirmed marks and the finalized block.
   */
  private refresh(): void {
    if (!this.dirty) return
    this.dirty = false
    const all = [...this.nodes.values()]
    for (const n of all) {
      n.voteStake = n.ownVote
      n.rootStake = n.ownRoot
    }
    for (let i = all.length - 1; i > 0; i--) {
      const n = all[i]
      if (n.parent) {
        n.parent.voteStake += n.voteStake
        n.parent.rootStake += n.rootStake
      }
    }
    // Blocks rooted by a super-majority form one chain (two disjoint subtrees cannot both
    // hold more than 2/3): its highest block is the candidate.
    let rooted: Node | undefined
    for (const n of all) {
      if (!n.confirmed && this.stakes.isSupermajority(n.voteStake)) n.confirmed = true
      if (this.stakes.isSupermajority(n.rootStake) && (!rooted || n.slot > rooted.slot)) rooted = n
    }
    if (rooted) this.advanceFinalized(rooted)
  }

  private advanceFinalized(candidate: Node): void {
    if (candidate.slot <= this.finalizedRef.slot) return
    const fin = this.nodes.get(toKey(this.finalizedRef.hash))
    // Not in the tree: it is an ancestor of the root (prune keeps its branch), so is of every block.
    const descends = fin ? this.isAncestorNode(fin, candidate) : true
    if (!descends) {
      this.conflictRef = ref(candidate)
      return
    }
    this.finalizedRef = ref(candidate)
  }

  private isAncestorNode(a: Node, d: Node): boolean {
    for (let n: Node | null = d; n; n = n.parent) {
      if (n === a) return true
      if (n.slot < a.slot) return false
    }
    return false
  }
}

function ref(n: Node): BlockRef {
  return { slot: n.slot, hash: Uint8Array.from(n.hash) }
}

function checkRef(b: BlockRef): void {
  if (!b || typeof b !== 'object' || !isSlot(b.slot) || !isBytes(b.hash, HASH_LENGTH)) {
    throw new ForkChoiceError('MALFORMED', `a block needs a slot in [0, 2^63-1] and a ${HASH_LENGTH}-byte hash`)
  }
}
