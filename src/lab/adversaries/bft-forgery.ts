/**
 * What a BFT peer without keys can fabricate, as functions the tests and the lab share:
 * a block forged on the head from public data only (the round's proposer as producer, the
 * head's commit certificate, seen in gossip, in the seal; executed, so every root checks),
 * proofs that do not prove it (none, the parent's certificate, a certificate of outsiders),
 * and consensus-topic junk (votes and proposals with signatures of the wrong key, votes of
 * non-validators, a flood of next-height messages, bytes that decode to nothing).
 * @module
 */
import type { Block } from '../../chain/block.ts'
import type { BlockImporter } from '../../chain/import.ts'
import type { ChainHead } from '../../chain/chain.ts'
import { encodeSeal, encodeEngineMessage, type ValidatorSchedule } from '../../consensus/bft-engine/index.ts'
import { certificateFromVotes, encodeCertificate, encodeMessage, signProposal, signVote, type CommitCertificate, type ConsensusMessage } from '../../consensus/bft/index.ts'
import { privateKeyToAddress } from '../../crypto/secp256k1.ts'
import { sha256 } from '../../crypto/hash.ts'

/** A key no validator set holds, derived from a label (deterministic, for replayable runs). */
export function outsiderKey(label: string): Uint8Array {
  return sha256(new TextEncoder().encode(`catena/lab/outsider/${label}`))
}

/**
 * Builds block head+1 as the round-0 proposer would, with the head's certificate (public: the
 * validators' precommits) in its seal, on the attacker's own copy of the chain (`importer`
 * must be at `head`). Everything in it checks except that nobody decided it.
 */
export async function forgeOnHead(importer: BlockImporter, head: ChainHead, headCertificate: CommitCertificate | null, schedule: ValidatorSchedule, round = 0): Promise<Block> {
  const height = head.header.height + 1n
  const built = await importer.build({
    timestamp: head.header.timestamp + 1n,
    producer: schedule.at(height).proposer(round).address,
    presetSeal: encodeSeal({ round, parentCertificate: height === 1n ? null : headCertificate }),
    // Marked, so it can never be the block the validators build themselves (an empty block is otherwise deterministic).
    extraData: new TextEncoder().encode('catena lab: forged'),
    source: { next: () => undefined, skipSender: () => {} },
  })
  return built.block
}

/** Proofs a forger can attach to `hash` at `height`: none, a real certificate of another block, and precommits of keys outside the set. */
export function forgedProofs(hash: Uint8Array, height: bigint, chainId: bigint, parentCertificate: CommitCertificate | null): Array<{ name: string; proof: Uint8Array | undefined }> {
  const outsiders = [1, 2, 3].map((i) => outsiderKey(`certificate ${i}`))
  const fake = certificateFromVotes(outsiders.map((k) => signVote({ type: 'precommit', height, round: 0, blockHash: hash, validator: privateKeyToAddress(k) }, k, chainId)))
  return [
    { name: 'no proof', proof: undefined },
    ...(parentCertificate ? [{ name: "the parent's certificate", proof: encodeCertificate(parentCertificate) }] : []),
    { name: 'a certificate of non-validators', proof: encodeCertificate(fake) },
  ]
}

/**
 * Consensus-topic junk for `height`, `n` messages, as engine messages: votes claiming a real
 * validator but signed by another key, votes of a non-validator, proposals with the wrong
 * signature and a block attached, next-height messages, and bytes that are no message.
 */
export function consensusJunk(opts: { height: bigint; chainId: bigint; validators: Uint8Array[]; block?: Uint8Array; n: number; seed?: number }): Uint8Array[] {
  const forger = outsiderKey('junk signer')
  const stranger = outsiderKey('junk validator')
  const out: Uint8Array[] = []
  for (let i = 0; out.length < opts.n; i++) {
    const claimed = opts.validators[i % opts.validators.length]!
    const hash = sha256(Uint8Array.of(i & 0xff, (i >> 8) & 0xff, opts.seed ?? 0))
    const round = i % 3
    const height = i % 4 === 3 ? opts.height + 1n : opts.height
    const vote = { type: i % 2 ? ('precommit' as const) : ('prevote' as const), height, round, blockHash: hash, validator: claimed }
    let m: ConsensusMessage
    switch (i % 4) {
      case 0: // a real validator's name, another key's signature
      case 3: // the same, for the next height (a flood the node must not buffer)
        m = { kind: 'vote', vote: { ...vote, signature: signVote(vote, forger, opts.chainId).signature } }
        out.push(encodeEngineMessage({ kind: 'consensus', message: encodeMessage(m) }))
        break
      case 1: // a well-signed vote of a key outside the set
        m = { kind: 'vote', vote: signVote({ ...vote, validator: privateKeyToAddress(stranger) }, stranger, opts.chainId) }
        out.push(encodeEngineMessage({ kind: 'consensus', message: encodeMessage(m) }))
        break
      case 2: {
        // a proposal in a validator's name, signed by another key, with a block attached
        const p = { height, round, blockHash: hash, polRound: -1, proposer: claimed }
        m = { kind: 'proposal', proposal: { ...p, signature: signProposal(p, forger, opts.chainId).signature } }
        out.push(opts.block ? encodeEngineMessage({ kind: 'proposal', message: encodeMessage(m), block: opts.block }) : encodeEngineMessage({ kind: 'consensus', message: encodeMessage(m) }))
        break
      }
    }
    if (i % 16 === 15 && out.length < opts.n) out.push(Uint8Array.of(0xc3, 0x01, 0x02, 0x03)) // decodes to no engine message
  }
  return out
}
