import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx'
import { hexToBytes } from '@ethereumjs/util'
import { makeCommon } from '../../../src/execution/common.ts'
import { withCachedSender } from '../../../src/execution/tx-sender.ts'

const KEY = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const SENDER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'
const common = makeCommon(1337n)
const raw = createFeeMarket1559Tx({ chainId: 1337n, nonce: 3n, maxFeePerGas: 10n, gasLimit: 21000n, to: SENDER, value: 1n }, { common })
  .sign(KEY)
  .serialize()

test('the cached sender is the signer, computed once, and the tx ends up frozen', () => {
  const tx = withCachedSender(createTxFromRLP(raw, { common, freeze: false }))
  assert.ok(Object.isFrozen(tx))
  const a = tx.getSenderAddress()
  assert.equal(a.toString(), SENDER)
  assert.equal(tx.getSenderAddress(), a, 'same Address object on later calls')
  assert.equal(createTxFromRLP(raw, { common }).getSenderAddress().toString(), SENDER, 'agrees with ethereumjs')
  assert.deepEqual(tx.hash(), createTxFromRLP(raw, { common }).hash())
})

test('an already frozen tx is returned as it is and still answers', () => {
  const frozen = createTxFromRLP(raw, { common })
  assert.equal(withCachedSender(frozen), frozen)
  assert.equal(frozen.getSenderAddress().toString(), SENDER)
})
