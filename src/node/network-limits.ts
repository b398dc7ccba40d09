/**
 * Network size limits that follow the chain spec: block gossip, sync responses and BFT
 * proposals must carry the largest block the spec ever allows (bitcoin-cash-like's 32 MB
 * too) with room for its import proof (a commit certificate) and the envelope's framing.
 * Smaller chains keep the network's defaults (8 MiB gossip, 16 MiB responses).
 * @module
 */
import { maxBlockBytesEver, type ChainSpec } from '../chain/spec/index.ts'
import type { NetworkLimitsInput } from '../net/limits.ts'

/** Room for a block's import proof and its framing: a certificate of ~10,000 validators' signatures. */
export const PROOF_ALLOWANCE = 1024 * 1024
const MiB = 1024 * 1024

export function networkLimitsFor(spec: ChainSpec): NetworkLimitsInput {
  const block = maxBlockBytesEver(spec) + PROOF_ALLOWANCE
  const response = Math.max(block, 16 * MiB)
  return {
    topics: { blocks: Math.max(block, 8 * MiB), consensus: block + 64 * 1024 },
    reqresp: { blocksByRange: { maxResponseBytes: response }, blocksByHash: { maxResponseBytes: response }, proposedBlock: { maxResponseBytes: response } },
  }
}
