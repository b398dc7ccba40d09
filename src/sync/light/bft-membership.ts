/**
 * The validator set a BFT light client checks each certificate against, derived as a full node
 * derives it (consensus/bft-engine/config.ts chainMembership), from proven state only:
 * - a fixed PoA set: the chain spec's validators;
 * - a permissioned chain: the permissions contract's snapshot() on the state after block h-1
 *   (the node re-reads it after every block). Every change to it goes through execute(),
 *   which logs Executed, so a block whose logs bloom cannot hold the contract's address left
 *   the set as it was: the call runs only after blocks whose bloom may (and at the start);
 * - a PoS chain: the staking contract's snapshot() as read after the last block at an epoch
 *   boundary or with slashing evidence in its seal (the node reads it exactly then), voting
 *   power by stake for the top maxValidators.
 * An empty set read from a contract means the spec's set, as on the node. Each snapshot() is
 * a local call over state proven against the header's state root (local-call.ts), so a source
 * cannot name the validators.
 * @module
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { BlockHeader } from '../../chain/block.ts'
import type { BftEngineSpec, ChainSpec } from '../../chain/spec/index.ts'
import { ValidatorSet } from '../../consensus/bft/index.ts'
import { decodeSeal } from '../../consensus/bft-engine/seal.ts'
import { PERMISSIONS_ADDRESS, SNAPSHOT_CALLDATA, STAKE_SNAPSHOT_CALLDATA, STAKING_ADDRESS, decodeSnapshot, decodeStakeSnapshot, votingPowers } from '../../contracts/index.ts'
import { matchesBloom } from '../../api/eth/bloom.ts'

export interface LinkedHeader {
  hash: Uint8Array
  header: BlockHeader
}

/** A system contract's view call on the state after `at`, proven (throws when it cannot be). */
export type SnapshotReader = (at: LinkedHeader, contract: Uint8Array, data: Uint8Array) => Promise<Uint8Array>

/** Sets kept by the block they follow (a sync holds a few at once; reads are what cost). */
const KEPT = 256

export class BftMembership {
  readonly kind: 'fixed' | 'permissions' | 'staking'
  private readonly fixed: ValidatorSet
  private readonly after = new Map<string, ValidatorSet>()
  private readonly permissions = hexToBytes(PERMISSIONS_ADDRESS)
  private readonly staking = hexToBytes(STAKING_ADDRESS)

  constructor(
    private readonly engine: BftEngineSpec,
    spec: Pick<ChainSpec, 'permissions'>,
    private readonly read: SnapshotReader,
  ) {
    this.kind = engine.staking ? 'staking' : spec.permissions ? 'permissions' : 'fixed'
    this.fixed = ValidatorSet.create(engine.validators.map((v) => ({ address: v.address, power: v.power })))
  }

  /** Whether the set in force after `header` may differ from the one after its parent. */
  mayChangeAfter(header: BlockHeader): boolean {
    if (this.kind === 'fixed') return false
    if (header.height === 0n) return true
    if (this.kind === 'permissions') return matchesBloom(header.logsBloom, [this.permissions], [])
    if (header.height % BigInt(this.engine.staking!.epochLength) === 0n) return true
    try {
      return (decodeSeal(header.seal).evidence?.length ?? 0) > 0
    } catch {
      return true // a seal that does not decode: read, and let the certificate check refuse the block
    }
  }

  /** The set after `block` when it is known without a read: a fixed set, or unchanged from its parent's known one. */
  known(block: LinkedHeader): ValidatorSet | undefined {
    if (this.kind === 'fixed') return this.fixed
    const cached = this.after.get(bytesToHex(block.hash))
    if (cached) return cached
    if (this.mayChangeAfter(block.header)) return undefined
    const parent = this.after.get(bytesToHex(block.header.parentHash))
    if (parent) this.keep(block.hash, parent)
    return parent
  }

  /**
   * The set in force for the block after `block` (its validators sign that block's
   * certificate). `parentOf` gives the ancestors a PoS chain walks back through to its last
   * read (at most one epoch), each linked by hash to `block`.
   */
  async setAfter(block: LinkedHeader, parentOf: (child: LinkedHeader) => Promise<LinkedHeader>): Promise<ValidatorSet> {
    const known = this.known(block)
    if (known) return known
    // Permissions are read after every block: the state after `block` is the answer.
    if (this.kind === 'permissions' || this.mayChangeAfter(block.header)) return this.readAfter(block)
    // PoS between reads: the set after the last block where the node read the stakes.
    const walked: LinkedHeader[] = []
    let at = block
    for (let i = 0; i <= this.engine.staking!.epochLength && !this.mayChangeAfter(at.header) && !this.after.has(bytesToHex(at.hash)); i++) {
      walked.push(at)
      at = await parentOf(at)
    }
    const set = this.after.get(bytesToHex(at.hash)) ?? (await this.readAfter(at))
    for (const w of walked) this.keep(w.hash, set)
    return set
  }

  private async readAfter(block: LinkedHeader): Promise<ValidatorSet> {
    const staking = this.kind === 'staking'
    const raw = await this.read(block, staking ? this.staking : this.permissions, staking ? STAKE_SNAPSHOT_CALLDATA : SNAPSHOT_CALLDATA)
    const validators = staking ? votingPowers(decodeStakeSnapshot(raw), BigInt(this.engine.staking!.maxValidators)) : decodeSnapshot(raw).validators
    const set = validators.length === 0 ? this.fixed : ValidatorSet.create(validators)
    this.keep(block.hash, set)
    return set
  }

  private keep(hash: Uint8Array, set: ValidatorSet): void {
    this.after.set(bytesToHex(hash), set)
    if (this.after.size > KEPT) this.after.delete(this.after.keys().next().value!)
  }
}
