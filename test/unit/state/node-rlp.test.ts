import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { RLP } from '@ethereumjs/rlp'
import { encodeBranchNode, encodeExtensionNode, encodeLeafNode } from '../../../src/state/node-rlp.ts'

// Byte strings around every RLP size boundary: single bytes under and over 0x80, 55/56 bytes, > 255 bytes.
const bytes = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 2 }),
  fc.uint8Array({ minLength: 50, maxLength: 60 }),
  fc.uint8Array({ minLength: 250, maxLength: 300 }),
)
/** A child reference: a 32-byte hash, or a short embedded node (its RLP, under 32 bytes). */
const ref = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.uint8Array({ maxLength: 12 })).map(([p, v]) => RLP.encode([p, v])),
)
/** What the parent's raw list holds for a reference: a hash as is, an embedded node as its decoded list. */
const asItem = (r: Uint8Array) => (r.length === 32 ? r : RLP.decode(r))

test('branch nodes encode as RLP.encode of their 17-item list', () => {
  fc.assert(
    fc.property(fc.array(fc.option(ref, { nil: null }), { minLength: 16, maxLength: 16 }), bytes, (children, value) => {
      const expected = RLP.encode([...children.map((c) => (c ? asItem(c) : new Uint8Array(0))), value] as never)
      assert.deepEqual(encodeBranchNode(children, value), expected)
    }),
  )
})

test('leaf and extension nodes encode as RLP.encode of their 2-item list', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 33 }), bytes, ref, (path, value, child) => {
      assert.deepEqual(encodeLeafNode(path, value), RLP.encode([path, value]))
      assert.deepEqual(encodeExtensionNode(path, child), RLP.encode([path, asItem(child)] as never))
    }),
  )
})
