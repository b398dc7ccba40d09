/**
 * The Ethereum block JSON of a PoW block shows its real nonce (8 bytes of hex, as Ethereum
 * clients expect), taken from the seal; blocks of other engines and the genesis block show zero.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatBlock, formatHeader } from '../../../src/api/eth/format.ts'
import { encodePowSeal } from '../../../src/consensus/pow/seal.ts'
import { openTestChain } from '../../helpers/chain.ts'

const WORK = { difficulty: 1000n, total: 5000n }

test('a PoW header shows the nonce of its seal as 8 bytes of hex', async () => {
  const { chain } = await openTestChain()
  const genesis = chain.head.header
  const cases: Array<[bigint, string]> = [
    [0x0123456789abcdefn, '0x0123456789abcdef'],
    [0xdeadbeefn, '0x00000000deadbeef'],
    [0n, '0x0000000000000000'],
    [2n ** 64n - 1n, '0xffffffffffffffff'],
  ]
  for (const [nonce, hex] of cases) {
    const header = { ...genesis, height: 1n, seal: encodePowSeal({ bits: 0x1f00ffff, nonce }) }
    const json = formatHeader(new Uint8Array(32), header, 500, WORK)
    assert.equal(json.nonce, hex)
    assert.equal(json.sealFields[0], `0x${Buffer.from(header.seal).toString('hex')}`)
    assert.equal(formatBlock(new Uint8Array(32), { header, txs: [] }, false, 500, WORK).nonce, hex)
  }
})

test('the genesis block and blocks of engines without work show a zero nonce', async () => {
  const { chain } = await openTestChain()
  assert.equal(formatHeader(chain.head.hash, chain.head.header, 500, WORK).nonce, '0x0000000000000000')
  const signed = { ...chain.head.header, height: 1n, seal: new Uint8Array(65).fill(7) }
  assert.equal(formatHeader(new Uint8Array(32), signed).nonce, '0x0000000000000000')
})
