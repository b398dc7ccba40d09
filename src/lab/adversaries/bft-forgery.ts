/**
 * What a BFT peer without keys can fabricate from public data, as functions the tests and
 * the lab share: a block forged on the head (the round's proposer as producer, the head's
 * commit certificate, seen in gossip, in the seal; executed, so every root checks), proofs
 * that do not prove it (none, the parent's certificate, a certificate of outsiders), and a
 * mixed batch of consensus-topic junk (material.ts builds each kind).
 * @module
 */
import type { BlockImporter, ExecutedBlock } from '../../chain/import.ts'
import type { ChainHead } from '../../chain/chain.ts'
import { encodeSeal, encodeEngineMessage, type ValidatorSchedule } from '../../consensus/bft-engine/index.ts'
import { encodeCertificate, type CommitCertificate } from '../../consensus/bft/index.ts'
import { sha256 } from '../../crypto/hash.ts'
import { consensusMessage, impersonatedProposal, impersonatedVote, outsiderCertificate, outsiderKey, outsiderVote, proposalWithBlock } from './material.ts'

/** What marks a forgery unless told otherwise: it can then never be the block the validators build themselves (an empty block is otherwise deterministic). */
const FORGED = new TextEncoder().encode('catena lab: forged')

/**
 * Builds (executes, does not store) block head+1 as the proposer of `round` would, with the
 * head's certificate (public: the validators' precommits) in its seal, on the attacker's own
 * copy of the chain (`importer` must be at `head`). Everything in it checks except that
 * nobody decided it.
 */
export async function forgeOnHead(
  importer: BlockImporter,
  head: ChainHead,
  headCertificate: CommitCertificate | null,
  schedule: ValidatorSchedule,
  opts: { round?: number; extraData?: Uint8Array; timestamp?: bigint } = {},
): Promise<ExecutedBlock> {
  const round = opts.round ?? 0
  const height = head.header.height + 1n
  if (height > 1n && !headCertificate) throw new Error(`cannot forge block ${height}: the head's certificate is unknown`)
  return importer.build({
    timestamp: opts.timestamp ?? head.header.timestamp + 1n,
    producer: schedule.at(height).proposer(round).address,
    presetSeal: encodeSeal({ round, parentCertificate: height === 1n ? null : headCertificate }),
    extraData: opts.extraData ?? FORGED,
    source: { next: () => undefined, skipSender: () => {} },
  })
}

/** Proofs a forger can attach to `hash` at `height`: none, a real certificate of another block, and precommits of keys outside the set. */
export function forgedProofs(hash: Uint8Array, height: bigint, chainId: bigint, parentCertificate: CommitCertificate | null): Array<{ name: string; proof: Uint8Array | undefined }> {
  return [
    { name: 'no proof', proof: undefined },
    ...(parentCertificate ? [{ name: "the parent's certificate", proof: encodeCertificate(parentCertificate) }] : []),
    { name: 'a certificate of non-validators', proof: encodeCertificate(outsiderCertificate(hash, height, chainId)) },
  ]
}

/**
 * Consensus-topic junk for `height`, `n` engine messages: votes in a validator's name signed
 * by another key, votes of a non-validator, proposals with the wrong signature and a block
 * attached, next-height messages, and bytes that are no engine message.
 */
export function consensusJunk(opts: { height: bigint; chainId: bigint; validators: Uint8Array[]; block?: Uint8Array; n: number; seed?: number }): Uint8Array[] {
  const attacker = outsiderKey('junk signer')
  const stranger = outsiderKey('junk validator')
  const out: Uint8Array[] = []
  for (let i = 0; out.length < opts.n; i++) {
    const claimed = opts.validators[i % opts.validators.length]!
    const hash = sha256(Uint8Array.of(i & 0xff, (i >> 8) & 0xff, opts.seed ?? 0))
    // Every 4th message is for the next height: a flood the node must not buffer.
    const slot = { height: i % 4 === 3 ? opts.height + 1n : opts.height, round: i % 3 }
    const type = i % 2 ? ('precommit' as const) : ('prevote' as const)
    switch (i % 4) {
      case 1:
        out.push(encodeEngineMessage(consensusMessage(outsiderVote(slot, type, hash, stranger, opts.chainId))))
        break
      case 2: {
        const p = impersonatedProposal(slot, hash, claimed, attacker, opts.chainId)
        out.push(encodeEngineMessage(opts.block ? proposalWithBlock(p, opts.block) : consensusMessage(p)))
        break
      }
      default:
        out.push(encodeEngineMessage(consensusMessage(impersonatedVote(slot, type, claimed, hash, attacker, opts.chainId))))
    }
    if (i % 16 === 15 && out.length < opts.n) out.push(Uint8Array.of(0xc3, 0x01, 0x02, 0x03)) // decodes to no engine message
  }
  return out
}

