/**
 * Receipts as Catena stores and commits to them: the consensus part only (type, status,
 * cumulative gas, logs). Everything else an RPC receipt shows (gasUsed, contractAddress,
 * effectiveGasPrice, bloom) is derived from the block and the tx.
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt } from '@ethereumjs/util'
import { Bloom } from '@ethereumjs/vm'

export interface Log {
  address: Uint8Array // 20
  topics: Uint8Array[] // each 32
  data: Uint8Array
}

export interface Receipt {
  type: number
  status: 0 | 1
  cumulativeGasUsed: bigint
  logs: Log[]
}

export function encodeReceipt(r: Receipt): Uint8Array {
  return RLP.encode([
    bigIntToUnpaddedBytes(BigInt(r.type)),
    bigIntToUnpaddedBytes(BigInt(r.status)),
    bigIntToUnpaddedBytes(r.cumulativeGasUsed),
    r.logs.map((l) => [l.address, l.topics, l.data]),
  ])
}

export function decodeReceipt(bytes: Uint8Array): Receipt {
  const f = RLP.decode(bytes) as unknown as [Uint8Array, Uint8Array, Uint8Array, [Uint8Array, Uint8Array[], Uint8Array][]]
  if (!Array.isArray(f) || f.length !== 4 || !Array.isArray(f[3])) throw new Error('receipt must be an RLP list of 4 items')
  return {
    type: Number(bytesToBigInt(f[0])),
    status: bytesToBigInt(f[1]) === 1n ? 1 : 0,
    cumulativeGasUsed: bytesToBigInt(f[2]),
    logs: f[3].map(([address, topics, data]) => ({ address, topics, data })),
  }
}

export function encodeReceipts(receipts: Receipt[]): Uint8Array {
  return RLP.encode(receipts.map(encodeReceipt))
}

export function decodeReceipts(bytes: Uint8Array): Receipt[] {
  return (RLP.decode(bytes) as unknown as Uint8Array[]).map(decodeReceipt)
}

export function logsBloom(logs: Log[]): Uint8Array {
  const bloom = new Bloom()
  for (const log of logs) {
    bloom.add(log.address)
    for (const topic of log.topics) bloom.add(topic)
  }
  return bloom.bitvector
}
