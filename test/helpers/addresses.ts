/** Test addresses that are easy to tell apart in failure output. */
import { bytesToHex } from '@ethereumjs/util'
import { getAddress } from 'viem'

/** A distinct 20-byte address per `tag`, starting with `prefix` (one prefix per test file). */
export function taggedAddress(prefix: number, tag: number): Uint8Array {
  const a = new Uint8Array(20)
  a[0] = prefix
  a[18] = tag >> 8
  a[19] = tag & 0xff
  return a
}

/** Lowercase 0x-hex, as the contract codecs take addresses. */
export const hex = (a: Uint8Array): `0x${string}` => bytesToHex(a)

/** EIP-55 form, as viem returns addresses. */
export const words = (a: Uint8Array): `0x${string}` => getAddress(bytesToHex(a))
