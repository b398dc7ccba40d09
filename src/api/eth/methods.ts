/** The full eth_ / net_ / web3_ method table served by a Catena node. */
import { bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../../crypto/hash.ts'
import { expectParams, parseData, toQuantity } from '../rpc/params.ts'
import type { RpcHandler } from '../rpc/server.ts'
import type { EthBackend } from './backend.ts'
import { chainMethods } from './chain-methods.ts'
import { stateMethods } from './state-methods.ts'
import { proofMethods } from './proof-methods.ts'

export function ethMethods(b: EthBackend): Record<string, RpcHandler> {
  // The chain id txs must be signed with now: the one in force for the next block.
  const chainId = () => b.chain.commons.chainIdAt(b.chain.head.header.height + 1n)
  /** Methods without parameters refuse extra ones, as geth does ("too many arguments"). */
  const noParams =
    (fn: () => unknown): RpcHandler =>
    (params) => {
      expectParams(params, 0)
      return fn()
    }
  return {
    web3_clientVersion: noParams(() => b.clientVersion),
    web3_sha3: (params) => {
      expectParams(params, 1)
      return bytesToHex(keccak256(parseData(params[0], 'data')))
    },
    net_version: noParams(() => chainId().toString()),
    net_listening: noParams(() => true),
    net_peerCount: noParams(() => toQuantity(b.peerCount())),
    eth_chainId: noParams(() => toQuantity(chainId())),
    eth_syncing: noParams(() => false),
    eth_mining: noParams(() => false),
    eth_hashrate: noParams(() => '0x0'),
    eth_accounts: noParams(() => []),
    eth_coinbase: noParams(() => bytesToHex(b.chain.head.header.producer)),
    eth_gasPrice: noParams(() => toQuantity(b.nextBaseFee() + b.suggestedTip())),
    eth_maxPriorityFeePerGas: noParams(() => toQuantity(b.suggestedTip())),
    ...chainMethods(b),
    ...stateMethods(b),
    ...proofMethods(b),
  }
}
