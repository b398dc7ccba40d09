/** The full eth_ / net_ / web3_ method table served by a Catena node. */
import { bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../../crypto/hash.ts'
import { expectParams, parseData, toQuantity } from '../rpc/params.ts'
import type { RpcHandler } from '../rpc/server.ts'
import type { EthBackend } from './backend.ts'
import { chainMethods } from './chain-methods.ts'
import { stateMethods } from './state-methods.ts'

export function ethMethods(b: EthBackend): Record<string, RpcHandler> {
  const chainId = () => b.chain.spec.chainId
  return {
    web3_clientVersion: () => b.clientVersion,
    web3_sha3: (params) => {
      expectParams(params, 1)
      return bytesToHex(keccak256(parseData(params[0], 'data')))
    },
    net_version: () => chainId().toString(),
    net_listening: () => true,
    net_peerCount: () => toQuantity(b.peerCount()),
    eth_chainId: () => toQuantity(chainId()),
    eth_syncing: () => false,
    eth_mining: () => false,
    eth_hashrate: () => '0x0',
    eth_accounts: () => [],
    eth_coinbase: () => bytesToHex(b.chain.head.header.producer),
    eth_gasPrice: () => toQuantity(b.nextBaseFee() + b.suggestedTip()),
    eth_maxPriorityFeePerGas: () => toQuantity(b.suggestedTip()),
    ...chainMethods(b),
    ...stateMethods(b),
  }
}
