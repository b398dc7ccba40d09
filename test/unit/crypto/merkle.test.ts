import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import {
  EMPTY_MERKLE_ROOT,
  MerkleError,
  hashLeaf,
  hashNode,
  merkleProof,
  merkleRoot,
  merkleRootFromLeafHashes,
  sha256,
  verifyMerkleProof,
  verifyMerkleProofHash,
} from '../../../src/crypto/index.ts'
import type { MerkleProof } from '../../../src/crypto/index.ts'

const hex = (h: string) => hexToBytes(`0x${h}`)

// RFC 6962 reference vectors from the Certificate Transparency reference implementation,
// google/certificate-transparency: cpp/merkletree/merkle_tree_test.cc (kInputs, kSHA256Roots,
// kSHA256Paths; its leaf numbers are 1-based, converted to 0-based indexes here) and
// python/ct/crypto/merkle_test.py (TreeHasherTest and the MerkleVerifierTest audit path).
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  (h) => (h === '' ? new Uint8Array(0) : hex(h)),
)
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', // empty tree
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]
const CT_PATHS: { index: number; leafCount: number; path: string[] }[] = [
  { index: 0, leafCount: 1, path: [] },
  {
    index: 0,
    leafCount: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    leafCount: 8,
    path: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, leafCount: 3, path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    leafCount: 5,
    path: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
]

/** RFC 6962 section 2.1 written out literally (recursive), to cross-check the fast code. */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}
function referenceRoot(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256(new Uint8Array(0))
  if (d.length === 1) return hashLeaf(d[0]!)
  const k = largestPowerOfTwoBelow(d.length)
  return hashNode(referenceRoot(d.slice(0, k)), referenceRoot(d.slice(k)))
}
function referencePath(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return []
  const k = largestPowerOfTwoBelow(d.length)
  if (m < k) return [...referencePath(m, d.slice(0, k)), referenceRoot(d.slice(k))]
  return [...referencePath(m - k, d.slice(k)), referenceRoot(d.slice(0, k))]
}

function leavesOf(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`leaf ${i}`))
}

describe('RFC 6962 hashing', () => {
  test('leaf and node hashes match the CT reference hasher vectors', () => {
    assert.equal(bytesToHex(hashLeaf(new Uint8Array(0))), '0x6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d')
    assert.equal(
      bytesToHex(hashLeaf(hex('101112131415161718191a1b1c1d1e1f'))),
      '0x3bfb960453ebaebf33727da7a1f4db38acc051d381b6da20d6d4e88f0eabfd7a',
    )
    assert.equal(
      bytesToHex(
        hashNode(
          hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'),
          hex('202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f'),
        ),
      ),
      '0x1a378704c17da31e2d05b6d121c2bb2c7d76f6ee6fa8f983e596c2d034963c57',
    )
  })

  test('roots of the 8-leaf reference tree at every size 0..8', () => {
    for (let n = 0; n <= 8; n++) {
      assert.equal(bytesToHex(merkleRoot(CT_LEAVES.slice(0, n))), `0x${CT_ROOTS[n]}`, `size ${n}`)
    }
  })

  test('empty tree: SHA-256 of the empty string; no proofs exist', () => {
    assert.deepEqual(merkleRoot([]), sha256(new Uint8Array(0)))
    assert.deepEqual(EMPTY_MERKLE_ROOT, merkleRoot([]))
    assert.deepEqual(merkleRootFromLeafHashes([]), EMPTY_MERKLE_ROOT)
    assert.throws(() => merkleProof([], 0), (e) => e instanceof MerkleError && e.code === 'INDEX_OUT_OF_RANGE')
  })

  test('one leaf: the root is the leaf hash and the proof is empty', () => {
    const leaf = new TextEncoder().encode('only')
    assert.deepEqual(merkleRoot([leaf]), hashLeaf(leaf))
    const proof = merkleProof([leaf], 0)
    assert.deepEqual(proof, { index: 0, leafCount: 1, siblings: [] })
    assert.equal(verifyMerkleProof(hashLeaf(leaf), leaf, proof), true)
    assert.equal(verifyMerkleProof(hashLeaf(leaf), leaf, { ...proof, leafCount: 2 }), false)
    assert.equal(verifyMerkleProof(sha256(leaf), leaf, proof), false) // no 0x00 leaf prefix: not the root
  })

  test('no duplicate-last-leaf ambiguity: [a, b, c] and [a, b, c, c] have different roots', () => {
    const [a, b, c] = leavesOf(3) as [Uint8Array, Uint8Array, Uint8Array]
    assert.notDeepEqual(merkleRoot([a, b, c]), merkleRoot([a, b, c, c]))
    // And a leaf can never pose as an inner node.
    const inner = hashNode(hashLeaf(a), hashLeaf(b))
    assert.notDeepEqual(merkleRoot([a, b]), hashLeaf(new Uint8Array([...hashLeaf(a), ...hashLeaf(b)])))
    assert.deepEqual(merkleRoot([a, b]), inner)
  })

  test('matches the literal recursive definition for every size up to 70 and for 10,000 leaves', () => {
    for (let n = 0; n <= 70; n++) {
      const leaves = leavesOf(n)
      assert.deepEqual(merkleRoot(leaves), referenceRoot(leaves), `size ${n}`)
    }
    const big = leavesOf(10_000)
    assert.deepEqual(merkleRoot(big), referenceRoot(big))
    assert.deepEqual(merkleRootFromLeafHashes(big.map(hashLeaf)), merkleRoot(big))
  })

  test('bad input is a typed error', () => {
    const invalidLeaf = (e: unknown) => e instanceof MerkleError && e.code === 'INVALID_LEAF'
    assert.throws(() => merkleRoot(['ab' as unknown as Uint8Array]), invalidLeaf)
    assert.throws(() => merkleRoot(null as unknown as Uint8Array[]), invalidLeaf)
    assert.throws(() => merkleProof([new Uint8Array(1)], 1), (e) => e instanceof MerkleError && e.code === 'INDEX_OUT_OF_RANGE')
    assert.throws(() => merkleProof([new Uint8Array(1)], 0.5), (e) => e instanceof MerkleError && e.code === 'INDEX_OUT_OF_RANGE')
    assert.throws(() => merkleProof([new Uint8Array(1)], -1), (e) => e instanceof MerkleError && e.code === 'INDEX_OUT_OF_RANGE')
    assert.throws(() => hashNode(new Uint8Array(31), new Uint8Array(32)), (e) => e instanceof MerkleError && e.code === 'INVALID_NODE')
    assert.throws(() => merkleRootFromLeafHashes([new Uint8Array(20)]), (e) => e instanceof MerkleError && e.code === 'INVALID_NODE')
  })
})

describe('RFC 6962 audit paths', () => {
  test('the reference audit paths are produced and verify', () => {
    for (const { index, leafCount, path } of CT_PATHS) {
      const leaves = CT_LEAVES.slice(0, leafCount)
      const proof = merkleProof(leaves, index)
      assert.deepEqual(proof.siblings.map((s) => bytesToHex(s).slice(2)), path, `index ${index} of ${leafCount}`)
      assert.equal(proof.leafCount, leafCount)
      assert.equal(verifyMerkleProof(hex(CT_ROOTS[leafCount]!), leaves[index]!, proof), true)
    }
  })

  test('a real CT log audit path (leaf 848049 of 3,630,887) verifies', () => {
    const siblings = [
      '1a208aeebcd1b39fe2de247ee8db9454e1e93a312d206b87f6ca9cc6ec6f1ddd',
      '0a1b78b383f580856f433c01a5741e160d451c185910027f6cc9f828687a40c4',
      '3d1745789bc63f2da15850de1c12a5bf46ed81e1cc90f086148b1662e79aab3d',
      '9095b61e14d8990acf390905621e62b1714fb8e399fbb71de5510e0aef45affe',
      '0a332b91b8fab564e6afd1dd452449e04619b18accc0ff9aa8393cd4928451f2',
      '2336f0181d264aed6d8f3a6507ca14a8d3b3c3a23791ac263e845d208c1ee330',
      'b4ce56e300590500360c146c6452edbede25d4ed83919278749ee5dbe178e048',
      '933f6ddc848ea562e4f9c5cfb5f176941301dad0c6fdb9d1fbbe34fac1be6966',
      'b95a6222958a86f74c030be27c44f57dbe313e5e7c7f4ffb98bcbd3a03bb52f2',
      'daeeb3ce5923defd0faeb8e0c210b753b85b809445d7d3d3cd537a9aabaa9c45',
      '7fadd0a13e9138a2aa6c3fdec4e2275af233b94812784f66bcca9aa8e989f2bc',
      '1864e6ba3e32878610546539734fb5eeae2529991f130c575c73a7e25a2a7c56',
      '12842d1202b1dc6828a17ab253c02e7ce9409b5192430feba44189f39cc02d66',
      '29af64b16fa3053c13d02ac63aa75b23aa468506e44c3a2315edc85d2dc22b11',
      'b527b99934a0bd9edd154e449b0502e2c499bba783f3bc3dfe23364b6b532009',
      '4584db8ae8e351ace08e01f306378a92bfd43611714814f3d834a2842d69faa8',
      '86a9a41573b0d6e4292f01e93243d6cc65b30f06606fc6fa57390e7e90ed580f',
      'a88b98fbe84d4c6aae8db9d1605dfac059d9f03fe0fcb0d5dff1295dacba09e6',
      '06326dc617a6d1f7021dc536026dbfd5fffc6f7c5531d48ef6ccd1ed1569f2a1',
      'f41fe8fdc3a2e4e8345e30216e7ebecffee26ff266eeced208a6c2a3cf08f960',
      '40cf5bde8abb76983f3e98ba97aa36240402975674e120f234b3448911090f8d',
      'b3222dc8658538079883d980d7fdc2bef9285344ea34338968f736b04aeb387a',
    ].map(hex)
    const leafHash = hex('7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78')
    const root = hex('78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb')
    const proof: MerkleProof = { index: 848049, leafCount: 3630887, siblings }
    assert.equal(verifyMerkleProofHash(root, leafHash, proof), true)
    assert.equal(verifyMerkleProofHash(root, leafHash, { ...proof, index: 848048 }), false)
    assert.equal(verifyMerkleProofHash(root, leafHash, { ...proof, siblings: siblings.slice(0, -1) }), false)
  })

  test('every index of every tree size 1..33 verifies; any tampering is rejected', () => {
    const zero = new Uint8Array(32)
    let checked = 0
    for (let n = 1; n <= 33; n++) {
      const leaves = leavesOf(n)
      const root = merkleRoot(leaves)
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(leaves, i)
        const leaf = leaves[i]!
        assert.deepEqual(proof.siblings, referencePath(i, leaves), `path ${i} of ${n}`)
        assert.equal(verifyMerkleProof(root, leaf, proof), true, `${i} of ${n}`)
        const reject = (p: MerkleProof, what: string, l: Uint8Array = leaf, r: Uint8Array = root) =>
          assert.equal(verifyMerkleProof(r, l, p), false, `${what}: ${i} of ${n}`)

        // Tampered siblings: each one, one bit at a time.
        proof.siblings.forEach((s, j) => {
          const bad = s.slice()
          bad[j % 32]! ^= 1
          reject({ ...proof, siblings: proof.siblings.map((x, k) => (k === j ? bad : x)) }, `sibling ${j}`)
        })
        // Tampered leaf, leaf from another position, wrong root.
        reject(proof, 'leaf', new Uint8Array([...leaf, 0]))
        if (n > 1) reject(proof, 'other leaf', leaves[(i + 1) % n])
        reject(proof, 'root', leaf, merkleRoot(leavesOf(n + 1)))
        // Wrong index or leaf count.
        for (const index of [i - 1, i + 1, i ^ 2, n, -1]) if (index !== i) reject({ ...proof, index }, `index ${index}`)
        for (const leafCount of [n * 2, Math.floor(n / 2), 0]) if (leafCount !== n) reject({ ...proof, leafCount }, `leafCount ${leafCount}`)
        // n +/- 1 changes the path's shape unless the two trees share it (see the test below).
        for (const leafCount of [n - 1, n + 1]) {
          if (i < leafCount && merkleProof(leavesOf(leafCount), i).siblings.length !== proof.siblings.length) {
            reject({ ...proof, leafCount }, `leafCount ${leafCount}`)
          }
        }
        // Extra or missing siblings.
        reject({ ...proof, siblings: [...proof.siblings, zero] }, 'extra sibling at the end')
        reject({ ...proof, siblings: [...proof.siblings, root] }, 'root appended')
        reject({ ...proof, siblings: [zero, ...proof.siblings] }, 'extra sibling at the start')
        if (proof.siblings.length > 0) {
          reject({ ...proof, siblings: proof.siblings.slice(0, -1) }, 'last sibling missing')
          reject({ ...proof, siblings: proof.siblings.slice(1) }, 'first sibling missing')
        }
        checked++
      }
    }
    assert.equal(checked, (33 * 34) / 2)
  })

  test('as in RFC 9162, leafCount is only checked through the path shape: take it from a trusted header', () => {
    // Leaf 0 of 3 and leaf 0 of 4 both have paths [sibling leaf, right subtree]; a verifier
    // cannot tell a leaf hash from a node hash, so the 3-leaf proof also passes as "0 of 4"
    // against the 3-leaf root. No 4-leaf tree has that root, so the claim is harmless only if
    // leafCount comes from the block header (Catena's tx count), never from the prover.
    const leaves = leavesOf(3)
    const proof = merkleProof(leaves, 0)
    assert.equal(verifyMerkleProof(merkleRoot(leaves), leaves[0]!, { ...proof, leafCount: 4 }), true)
    assert.equal(verifyMerkleProof(merkleRoot(leaves), leaves[0]!, { ...proof, leafCount: 5 }), false)
  })

  test('malformed proofs are false, never a throw', () => {
    const leaves = leavesOf(6)
    const root = merkleRoot(leaves)
    const good = merkleProof(leaves, 3)
    const malformed: unknown[] = [
      null,
      undefined,
      42,
      'proof',
      {},
      { index: 3, leafCount: 6 },
      { ...good, siblings: 'nope' },
      { ...good, siblings: [null, ...good.siblings.slice(1)] },
      { ...good, siblings: [new Uint8Array(31), ...good.siblings.slice(1)] },
      { ...good, siblings: [new Uint8Array(0), ...good.siblings.slice(1)] },
      { ...good, index: 3.5 },
      { ...good, index: Number.NaN },
      { ...good, index: '3' },
      { ...good, index: 2 ** 60 },
      { ...good, leafCount: Infinity },
      { ...good, leafCount: -6 },
    ]
    for (const p of malformed) {
      assert.equal(verifyMerkleProof(root, leaves[3]!, p as MerkleProof), false, JSON.stringify(p))
    }
    assert.equal(verifyMerkleProof(root.subarray(1), leaves[3]!, good), false)
    assert.equal(verifyMerkleProof('root' as unknown as Uint8Array, leaves[3]!, good), false)
    assert.equal(verifyMerkleProof(root, 'leaf' as unknown as Uint8Array, good), false)
    assert.equal(verifyMerkleProofHash(root, new Uint8Array(31), good), false)
    assert.equal(verifyMerkleProof(root, leaves[3]!, good), true)
  })
})
