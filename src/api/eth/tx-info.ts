/** Facts derived from a tx that the RPC shows but blocks do not store. */
import { Address, generateAddress } from '@ethereumjs/util'
import { bigIntToUnpaddedBytes } from '@ethereumjs/util'

/** CREATE address: keccak(rlp([sender, nonce]))[12:]. */
export function contractAddressOf(sender: Uint8Array, nonce: bigint): Uint8Array {
  return generateAddress(new Address(sender).bytes, bigIntToUnpaddedBytes(nonce))
}
