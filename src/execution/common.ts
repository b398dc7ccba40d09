/**
 * The ethereumjs `Common` for a Catena chain: Ethereum's Prague rules (the EVM and tx formats
 * that Solidity, viem and ethers target) under the chain's own id, with Catena's fast
 * signature recovery plugged in so every tx library call uses it.
 */
import { Common, Hardfork, Mainnet, createCustomCommon } from '@ethereumjs/common'
import type { CustomCrypto } from '@ethereumjs/common'

export const EVM_HARDFORK = Hardfork.Prague

export function makeCommon(chainId: bigint, customCrypto: CustomCrypto = {}): Common {
  return createCustomCommon(
    { chainId: Number(chainId), name: `catena-${chainId}` },
    Mainnet,
    { hardfork: EVM_HARDFORK, customCrypto },
  )
}
