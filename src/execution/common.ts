/**
 * The ethereumjs `Common` for a Catena chain: Ethereum's Prague rules (the EVM and tx formats
 * that Solidity, viem and ethers target) under the chain's own id, with Catena's fast
 * signature recovery plugged in so every tx library call uses it.
 */
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import type { CustomCrypto, ParamsDict } from '@ethereumjs/common'
import { paramsBlock } from '@ethereumjs/block'
import { paramsEVM } from '@ethereumjs/evm'
import { paramsTx } from '@ethereumjs/tx'
import { paramsVM } from '@ethereumjs/vm'

export const EVM_HARDFORK = Hardfork.Prague

/**
 * ethereumjs calls `updateParams` with the same parameter table on every tx, block and VM it
 * constructs, and each call deep-copies the table and rebuilds the parameter cache: in a
 * profile of the node under load that was the largest single cost. The tables are constants,
 * so merging one a second time changes nothing; this Common merges each table once.
 * Every table is merged at construction, because ethereumjs copies the Common (sharing the
 * merged tables but not the cache) and the copies must start with a complete cache.
 */
class CatenaCommon extends Common {
  private readonly merged = new WeakSet<ParamsDict>()

  override updateParams(params: ParamsDict): void {
    if (this.merged.has(params)) return
    this.merged.add(params)
    super.updateParams(params)
  }
}

export function makeCommon(chainId: bigint, customCrypto: CustomCrypto = {}): Common {
  const common = new CatenaCommon({
    chain: { ...Mainnet, chainId: Number(chainId), name: `catena-${chainId}` },
    hardfork: EVM_HARDFORK,
    customCrypto,
  })
  for (const params of [paramsTx, paramsBlock, paramsVM, paramsEVM]) common.updateParams(params)
  return common
}

/** A height from which a fork runs the chain under another chain id (replay protection). */
export interface ChainIdChange {
  height: bigint
  chainId: bigint
}

/**
 * The Common in force at each height. A contentious hard fork may change the chain id at a
 * height (as ETC/ETH and BCH did) so that a tx signed for one side is invalid on the other:
 * txs and blocks at a height are decoded, checked and executed with that height's Common.
 * One Common per distinct chain id, made once.
 */
export class CommonSchedule {
  readonly genesis: Common
  private readonly changes: ChainIdChange[]
  private readonly byId = new Map<bigint, Common>()

  constructor(genesisChainId: bigint, changes: ChainIdChange[] = [], customCrypto: CustomCrypto = {}, genesis?: Common) {
    this.genesis = genesis ?? makeCommon(genesisChainId, customCrypto)
    this.byId.set(genesisChainId, this.genesis)
    this.changes = [...changes].sort((a, b) => (a.height < b.height ? -1 : a.height > b.height ? 1 : 0))
    for (const c of this.changes) if (!this.byId.has(c.chainId)) this.byId.set(c.chainId, makeCommon(c.chainId, customCrypto))
  }

  /** A schedule with one Common for every height (chains without a chain-id fork, tests). */
  static single(common: Common): CommonSchedule {
    return new CommonSchedule(common.chainId(), [], {}, common)
  }

  /** The chain id in force at `height`. */
  chainIdAt(height: bigint): bigint {
    let id = this.genesis.chainId()
    for (const c of this.changes) if (c.height <= height) id = c.chainId
    return id
  }

  at(height: bigint): Common {
    return this.byId.get(this.chainIdAt(height))!
  }

  /** True when some fork changes the chain id. */
  get forksChainId(): boolean {
    return this.changes.some((c) => c.chainId !== this.genesis.chainId())
  }
}

/** A Common for every height, or one schedule: what decoding and execution take. */
export type Commons = Common | CommonSchedule

export function asSchedule(c: Commons): CommonSchedule {
  return c instanceof CommonSchedule ? c : CommonSchedule.single(c)
}

/** The Common for txs at `height`. */
export function commonAt(c: Commons, height: bigint): Common {
  return c instanceof CommonSchedule ? c.at(height) : c
}
