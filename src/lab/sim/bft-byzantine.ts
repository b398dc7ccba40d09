/**
 * What byzantine validators send instead of what their (honest) driver asked for. Each runs
 * an honest state machine so it stays in step with the chain; only its outgoing messages are
 * rewritten, signed with its own key.
 */
import { signProposal, signVote, type ConsensusMessage } from '../../consensus/bft/index.ts'
import type { Prng } from './prng.ts'

/**
 * equivocate: as proposer, shows half the peers one block and half another.
 * double-vote: signs a second, conflicting vote for every vote and splits the peers.
 * fork-attack: colludes with the other fork-attackers: shows the even-indexed honest nodes
 *   block X and the odd-indexed block Y in every proposal and vote (breaks safety with > f).
 * split-vote: the targeted attack on quorum intersection. The adversary splits the honest
 *   validators into two sides (ForgeContext.sides, the partition it chose); every colluder signs
 *   each proposal and vote twice, for block X to side A only and for block Y to side B only,
 *   re-sends them only there, and relays nothing else (no gossip, no sync), so neither side
 *   sees the other's block until the partition heals. Each side plus the colluders reaches
 *   > 2/3 of the power once the colluders hold at least 2q - n of it (q the quorum).
 * silent: sends nothing (a crashed validator that never comes back).
 */
export type Behavior = 'equivocate' | 'double-vote' | 'fork-attack' | 'split-vote' | 'silent'

export interface ForgeContext {
  rng: Prng
  chainId: bigint
  peers: Array<{ index: number; honest: boolean }>
  /** split-vote: the two honest sides the adversary chose (default: even and odd honest indices). */
  sides?: readonly [readonly number[], readonly number[]]
  /** Registers a new valid block for `height` and returns its hash. */
  mint(label: string, height: bigint): Uint8Array
}

export interface ForgerNode {
  index: number
  key: Uint8Array
  behaviors: Set<Behavior>
}

/** Which message goes to which peers. */
export interface Delivery {
  message: ConsensusMessage
  to: number[]
  /** Re-gossip it to `to` only (the split must not leak through retransmission). */
  targeted?: boolean
}

/** Nodes that relay nothing but what their forger sends: no gossip relay, no anti-entropy, no sync answers. */
export function withholdsRelay(behaviors: ReadonlySet<Behavior>): boolean {
  return behaviors.has('silent') || behaviors.has('split-vote')
}

export function forge(node: ForgerNode, m: ConsensusMessage, ctx: ForgeContext): Delivery[] {
  const everyone = ctx.peers.map((p) => p.index)
  if (node.behaviors.has('split-vote')) return forkAttack(node, m, ctx, ctx.sides, true)
  if (node.behaviors.has('fork-attack')) return forkAttack(node, m, ctx)
  const split = m.kind === 'proposal' ? node.behaviors.has('equivocate') : node.behaviors.has('double-vote')
  if (!split) return [{ message: m, to: everyone }]
  // Sign a second, conflicting message and show each half of the network one of the two.
  let alt: ConsensusMessage
  if (m.kind === 'proposal') {
    const p = m.proposal
    const other = ctx.mint(`equivocation ${p.height}/${p.round} by ${node.index}`, p.height)
    alt = { kind: 'proposal', proposal: signProposal({ ...p, blockHash: other, polRound: -1 }, node.key, ctx.chainId) }
  } else {
    const v = m.vote
    const other = v.blockHash === null ? ctx.mint(`double vote ${v.height}/${v.round} by ${node.index}`, v.height) : null
    alt = { kind: 'vote', vote: signVote({ ...v, blockHash: other }, node.key, ctx.chainId) }
  }
  const shuffled = ctx.rng.shuffle(everyone)
  return [
    { message: m, to: shuffled.filter((_, k) => k % 2 === 0) },
    { message: alt, to: shuffled.filter((_, k) => k % 2 === 1) },
  ]
}

/** Shows honest group A block X and group B block Y, in proposals and votes alike. */
function forkAttack(node: ForgerNode, m: ConsensusMessage, ctx: ForgeContext, sides?: ForgeContext['sides'], targeted = false): Delivery[] {
  const [height, round] = m.kind === 'proposal' ? [m.proposal.height, m.proposal.round] : [m.vote.height, m.vote.round]
  const honest = ctx.peers.filter((p) => p.honest).map((p) => p.index)
  const [a, b] = sides ?? [honest.filter((_, k) => k % 2 === 0), honest.filter((_, k) => k % 2 === 1)]
  const out: Delivery[] = []
  for (const [side, group] of [['X', a], ['Y', b]] as const) {
    const block = ctx.mint(`fork ${side} ${height}/${round}`, height)
    const message: ConsensusMessage =
      m.kind === 'proposal'
        ? { kind: 'proposal', proposal: signProposal({ ...m.proposal, blockHash: block, polRound: -1 }, node.key, ctx.chainId) }
        : { kind: 'vote', vote: signVote({ ...m.vote, blockHash: block }, node.key, ctx.chainId) }
    out.push({ message, to: [...group], ...(targeted ? { targeted } : {}) })
  }
  // The colluders see the genuine message.
  out.push({ message: m, to: ctx.peers.filter((p) => !p.honest).map((p) => p.index), ...(targeted ? { targeted } : {}) })
  return out
}
