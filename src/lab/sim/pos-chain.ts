/**
 * A Proof-of-Stake chain in one process for the lab: the `ethereum-like` preset with the
 * simulation's validators bonded at genesis, a real Chain, Executor and BlockImporter, and
 * the PoS engine's production rules (BftEngine.rulesFor with the chain's stake membership:
 * commit certificates required, evidence in seals verified, slashing as a system call into
 * the staking contract, the validator set re-read after a slash).
 *
 * Blocks are built by the round-0 proposer and imported with a commit certificate the given
 * voters sign, through importBlock, the path a block from a peer takes. This replaces the
 * consensus rounds (the simulation runs those) by their outcome; everything the chain does
 * with a decided block is the node's own code.
 * @module
 */
import { bytesToHex, createAddressFromString } from '@ethereumjs/util'
import { blockHash } from '../../chain/block.ts'
import { Chain } from '../../chain/chain.ts'
import { BlockImporter } from '../../chain/import.ts'
import { chainSpecToJSON, loadChainSpec, parseChainSpec, type ChainSpec } from '../../chain/spec/index.ts'
import { BftEngine, chainMembership, encodeSeal, type BftRules } from '../../consensus/bft-engine/index.ts'
import { certificateFromVotes, encodeCertificate, signVote, type CommitCertificate, type DuplicateVoteEvidence } from '../../consensus/bft/index.ts'
import { STAKING_ADDRESS, decodeUint, encodeIsJailed, encodeStakeOf } from '../../contracts/index.ts'
import { ethereumCustomCrypto, privateKeyToAddress } from '../../crypto/secp256k1.ts'
import { CallRunner, Executor, makeCommon } from '../../execution/index.ts'
import { MemoryStore } from '../../storage/index.ts'

const ETHER = 10n ** 18n
export const POS_STAKE = 32n * ETHER
const STAKING_ADDRESS_BYTES = createAddressFromString(STAKING_ADDRESS).bytes

export interface ValidatorStanding {
  address: string
  stake: bigint
  jailed: boolean
  /** In the validator set the engine uses for the next block. */
  active: boolean
}

export class PosChain {
  private cert: CommitCertificate | null = null
  private readonly calls: CallRunner

  private constructor(
    readonly spec: ChainSpec,
    readonly chain: Chain,
    readonly executor: Executor,
    readonly importer: BlockImporter,
    readonly rules: BftRules,
  ) {
    this.calls = new CallRunner(executor)
  }

  /** The ethereum-like PoS chain with `keys`' addresses bonded POS_STAKE each. */
  static async open(keys: readonly Uint8Array[]): Promise<PosChain> {
    const json = chainSpecToJSON(loadChainSpec('ethereum-like'))
    if (json.engine.type !== 'bft') throw new Error('ethereum-like is not a bft chain')
    json.name = 'lab-pos'
    json.engine.validators = keys.map((k) => ({ address: bytesToHex(privateKeyToAddress(k)), stake: POS_STAKE.toString() }))
    const spec = parseChainSpec(json, 'lab pos chain')
    if (spec.engine.type !== 'bft') throw new Error('not a bft chain')
    const common = makeCommon(spec.chainId, ethereumCustomCrypto())
    const store = new MemoryStore()
    const chain = await Chain.open(store, spec, common)
    const executor = new Executor(store, chain.commons, (h) => chain.getHashAt(h))
    const rules = BftEngine.rulesFor({ chainId: spec.chainId, config: spec.engine, membership: chainMembership(chain, spec.engine) })
    // Block times follow genesis, and so does the importer's clock: nothing depends on the wall clock.
    const clock = spec.genesis.timestamp + 1_000_000n
    const importer = new BlockImporter(chain, executor, rules, { now: () => clock })
    return new PosChain(spec, chain, executor, importer, rules)
  }

  get chainId(): bigint {
    return this.spec.chainId
  }

  get height(): bigint {
    return this.chain.head.header.height
  }

  /**
   * Builds the next block (round 0, its proposer as producer, `evidence` in the seal) and
   * imports it with the precommits of `voters`; throws what import throws (BlockError).
   */
  async extend(voters: readonly Uint8Array[], evidence: DuplicateVoteEvidence[] = []): Promise<void> {
    const head = this.chain.head
    const height = head.header.height + 1n
    const producer = this.rules.schedule.at(height).proposer(0).address
    const seal = encodeSeal({ round: 0, parentCertificate: this.cert, ...(evidence.length ? { evidence } : {}) })
    const source = { next: () => undefined, skipSender: () => {} }
    const built = await this.importer.build({ timestamp: head.header.timestamp + 1n, producer, presetSeal: seal, source })
    const hash = blockHash(built.block.header)
    const votes = voters.map((k) => signVote({ type: 'precommit', height, round: 0, blockHash: hash, validator: privateKeyToAddress(k) }, k, this.chainId))
    const cert = certificateFromVotes(votes)
    await this.importer.importBlock(built.block, encodeCertificate(cert))
    this.cert = cert
  }

  /** What the staking contract and the engine's validator set say about `key`'s validator now. */
  async standing(key: Uint8Array): Promise<ValidatorStanding> {
    const address = privateKeyToAddress(key)
    const head = this.chain.head
    const read = async (data: Uint8Array) => {
      const ctx = { height: head.header.height, timestamp: head.header.timestamp, producer: new Uint8Array(20), gasLimit: head.header.gasLimit, baseFee: 0n, parentHash: head.hash }
      const out = await this.calls.call(head.header.stateRoot, ctx, { to: STAKING_ADDRESS_BYTES, data }, { default: 30_000_000n, cap: 0n })
      if (!out.success) throw new Error(`staking view call failed: ${out.error}`)
      return decodeUint(out.returnValue)
    }
    return {
      address: bytesToHex(address),
      stake: await read(encodeStakeOf(address)),
      jailed: (await read(encodeIsJailed(address))) === 1n,
      active: this.rules.schedule.at(head.header.height + 1n).get(address) !== undefined,
    }
  }
}
