/**
 * RLP encodings of Merkle Patricia trie nodes in one pass: the output is sized first and then
 * written, with no intermediate nested arrays (a general RLP encoder builds the node's item
 * list, then encodes it; a block's state root encodes tens of nodes, most of them 17-item
 * branches, so this showed in import profiles).
 *
 * A child reference is either a 32-byte hash, written as a byte string, or the RLP of a node
 * shorter than 32 bytes, embedded verbatim (Yellow Paper appendix D); the two never have the
 * same length, which is how they are told apart here.
 * @module
 */

/** RLP size of the byte string `b`. */
function stringSize(b: Uint8Array): number {
  if (b.length === 1 && b[0]! < 0x80) return 1
  return b.length <= 55 ? 1 + b.length : 1 + byteLength(b.length) + b.length
}

/** RLP size of a child reference: a hash as a string, an embedded node as it is. */
function refSize(ref: Uint8Array): number {
  return ref.length === 32 ? 33 : ref.length
}

function byteLength(n: number): number {
  let bytes = 0
  while (n > 0) {
    bytes++
    n = Math.floor(n / 256)
  }
  return bytes
}

function writeLength(out: Uint8Array, at: number, length: number, short: number): number {
  if (length <= 55) {
    out[at] = short + length
    return at + 1
  }
  const n = byteLength(length)
  out[at] = short + 55 + n
  for (let i = n; i > 0; i--, length = Math.floor(length / 256)) out[at + i] = length & 0xff
  return at + 1 + n
}

function writeString(out: Uint8Array, at: number, b: Uint8Array): number {
  if (b.length === 1 && b[0]! < 0x80) {
    out[at] = b[0]!
    return at + 1
  }
  at = writeLength(out, at, b.length, 0x80)
  out.set(b, at)
  return at + b.length
}

function writeRef(out: Uint8Array, at: number, ref: Uint8Array): number {
  if (ref.length !== 32) {
    out.set(ref, at)
    return at + ref.length
  }
  out[at] = 0xa0
  out.set(ref, at + 1)
  return at + 33
}

function listOf(payload: number): Uint8Array {
  return new Uint8Array(payload <= 55 ? 1 + payload : 1 + byteLength(payload) + payload)
}

/** A branch node: 16 child references (null for none) and its value (empty for none). */
export function encodeBranchNode(children: ReadonlyArray<Uint8Array | null>, value: Uint8Array): Uint8Array {
  let payload = stringSize(value)
  for (let i = 0; i < 16; i++) {
    const c = children[i]
    payload += c ? refSize(c) : 1
  }
  const out = listOf(payload)
  let at = writeLength(out, 0, payload, 0xc0)
  for (let i = 0; i < 16; i++) {
    const c = children[i]
    if (c) at = writeRef(out, at, c)
    else out[at++] = 0x80
  }
  writeString(out, at, value)
  return out
}

/** A leaf node: its hex-prefixed path and its value. */
export function encodeLeafNode(hexPath: Uint8Array, value: Uint8Array): Uint8Array {
  const payload = stringSize(hexPath) + stringSize(value)
  const out = listOf(payload)
  writeString(out, writeString(out, writeLength(out, 0, payload, 0xc0), hexPath), value)
  return out
}

/** An extension node: its hex-prefixed path and its child's reference. */
export function encodeExtensionNode(hexPath: Uint8Array, child: Uint8Array): Uint8Array {
  const payload = stringSize(hexPath) + refSize(child)
  const out = listOf(payload)
  writeRef(out, writeString(out, writeLength(out, 0, payload, 0xc0), hexPath), child)
  return out
}
