/**
 * Gossip message ids: the SHA-256 of the data, except on the blocks topic, where it is the
 * SHA-256 of the block's header. A block travels with its import proof (a BFT commit
 * certificate), and two nodes that announce one block may hold certificates with different sets
 * of signatures; keyed by header, gossipsub forwards the first copy and drops the others as
 * duplicates instead of relaying each one everywhere.
 * @module
 */
import { sha256 } from '../crypto/hash.ts'

const BLOCKS_TOPIC = /\/blocks\/\d+$/

export function gossipMessageId(topic: string, data: Uint8Array): Uint8Array {
  if (BLOCKS_TOPIC.test(topic)) {
    const header = firstItemOfList(data)
    if (header) return sha256(header)
  }
  return sha256(data)
}

/** The first byte-string item of an RLP list (the header of RLP [header, body, proof]), without decoding the rest; undefined if it is not one. */
export function firstItemOfList(b: Uint8Array): Uint8Array | undefined {
  const list = prefix(b, 0, 0xc0)
  if (!list || list.end > b.length) return undefined
  const item = prefix(b, list.start, 0x80)
  if (!item || item.end > list.end) return undefined
  return b.subarray(item.start, item.end)
}

/** An RLP length prefix at `at` of a string (base 0x80) or list (base 0xc0): where its payload starts and ends. */
function prefix(b: Uint8Array, at: number, base: 0x80 | 0xc0): { start: number; end: number } | undefined {
  const first = b[at]
  if (first === undefined || first < base || first > base + 0x3f) return undefined
  if (first <= base + 55) return { start: at + 1, end: at + 1 + first - base }
  const lengthBytes = first - base - 55
  if (lengthBytes > 4 || at + 1 + lengthBytes > b.length) return undefined
  let length = 0
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + b[at + 1 + i]!
  return { start: at + 1 + lengthBytes, end: at + 1 + lengthBytes + length }
}
