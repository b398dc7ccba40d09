/**
 * What a keyless attacker can make: keys of its own (never a validator's), commit
 * certificates signed by those keys, and consensus messages that decode but must not verify
 * (a validator's name over the attacker's signature, a proposal from the wrong signer, votes
 * of non-validators, messages for heights no one has reached), plus plain garbage. Each is
 * built with the chain's own encoders, so it reaches the honest validation path intact.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { sha256 } from '../../crypto/hash.ts'
import { privateKeyToAddress } from '../../crypto/secp256k1.ts'
import {
  certificateFromVotes,
  encodeMessage,
  signProposal,
  signVote,
  type CommitCertificate,
  type ConsensusMessage,
  type VoteType,
} from '../../consensus/bft/index.ts'
import { encodeEngineMessage, type EngineMessage } from '../../consensus/bft-engine/index.ts'

/** A deterministic key from a label (an outsider: no validator holds it). */
export function outsiderKey(label: string): Uint8Array {
  return sha256(new TextEncoder().encode(`catena/lab/hostile-peer/${label}`))
}

/** Precommits for `blockHash` signed by `count` outsider keys: well-formed, signed, worthless. */
export function outsiderCertificate(blockHash: Uint8Array, height: bigint, chainId: bigint, count = 3): CommitCertificate {
  const votes = Array.from({ length: count }, (_, i) => {
    const key = outsiderKey(`certificate/${i}`)
    return signVote({ type: 'precommit', height, round: 0, blockHash, validator: privateKeyToAddress(key) }, key, chainId)
  })
  return certificateFromVotes(votes)
}

/**
 * A message on the 'consensus' topic as a node's transport frames it (node/node.ts
 * gossipTransport): an 8-byte sequence number, then the engine message. The sequence makes
 * every send a new gossip message.
 */
export class ConsensusFramer {
  private seq = BigInt(Date.now()) << 16n

  frame(m: EngineMessage): Uint8Array {
    return this.raw(encodeEngineMessage(m))
  }

  /** Any payload behind a fresh sequence number (garbage that passes the 8-byte length check). */
  raw(payload: Uint8Array): Uint8Array {
    const out = new Uint8Array(8 + payload.length)
    new DataView(out.buffer).setBigUint64(0, this.seq++)
    out.set(payload, 8)
    return out
  }
}

type ProposalMessage = Extract<ConsensusMessage, { kind: 'proposal' }>

export interface Slot {
  height: bigint
  round: number
}

/** A vote in a validator's name signed with the attacker's key: BAD_SIGNATURE. */
export function impersonatedVote(slot: Slot, type: VoteType, validator: Uint8Array, blockHash: Uint8Array | null, attackerKey: Uint8Array, chainId: bigint): ConsensusMessage {
  const signed = signVote({ type, ...slot, blockHash, validator: privateKeyToAddress(attackerKey) }, attackerKey, chainId)
  return { kind: 'vote', vote: { ...signed, validator } }
}

/** A correctly signed vote of a key that is not a validator: UNKNOWN_VALIDATOR. */
export function outsiderVote(slot: Slot, type: VoteType, blockHash: Uint8Array | null, key: Uint8Array, chainId: bigint): ConsensusMessage {
  return { kind: 'vote', vote: signVote({ type, ...slot, blockHash, validator: privateKeyToAddress(key) }, key, chainId) }
}

/** A proposal naming `proposer` but signed by the attacker's key (BAD_SIGNATURE, or NOT_PROPOSER in the wrong round). */
export function impersonatedProposal(slot: Slot, blockHash: Uint8Array, proposer: Uint8Array, attackerKey: Uint8Array, chainId: bigint): ProposalMessage {
  const signed = signProposal({ ...slot, blockHash, polRound: -1, proposer: privateKeyToAddress(attackerKey) }, attackerKey, chainId)
  return { kind: 'proposal', proposal: { ...signed, proposer } }
}

/** A correctly signed proposal of a non-validator key. */
export function outsiderProposal(slot: Slot, blockHash: Uint8Array, key: Uint8Array, chainId: bigint): ProposalMessage {
  return { kind: 'proposal', proposal: signProposal({ ...slot, blockHash, polRound: -1, proposer: privateKeyToAddress(key) }, key, chainId) }
}

export function consensusMessage(m: ConsensusMessage): EngineMessage {
  return { kind: 'consensus', message: encodeMessage(m) }
}

export function proposalWithBlock(m: ProposalMessage, block: Uint8Array): EngineMessage {
  return { kind: 'proposal', message: encodeMessage(m), block }
}

/** Random bytes of a random length in [min, max]. */
export function garbage(min = 1, max = 512): Uint8Array {
  return randomBytes(min + Math.floor(Math.random() * (max - min + 1)))
}
