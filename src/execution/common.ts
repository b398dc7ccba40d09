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
