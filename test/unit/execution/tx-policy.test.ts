/**
 * Block validity is never wider than relay policy: a tx the mempool refuses (blob and set-code
 * types, pre-EIP-155 legacy txs) is never built into a block, and a block that carries one is
 * invalid on import (BAD_TX), with the same reason the mempool gives. The attack that makes this
 * matter: on a permissioned chain an EIP-7702 authorization signed by an account outside the
 * allowlist lets an allowed sender run code as that account and move its funds.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createBlob4844Tx, createEOACode7702Tx, createFeeMarket1559Tx, createLegacyTx, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, eoaCode7702SignAuthorization, type PrefixedHexString } from '@ethereumjs/util'
import type { Block } from '../../../src/chain/block.ts'
import { BlockError } from '../../../src/chain/errors.ts'
import { parseChainSpec } from '../../../src/chain/spec/index.ts'
import { presetJSON } from '../../../src/chain/spec/presets.ts'
import { merkleRoot } from '../../../src/crypto/merkle.ts'
import { ethereumCustomCrypto } from '../../../src/crypto/secp256k1.ts'
import { makeCommon, txBytes } from '../../../src/execution/index.ts'
import { Mempool, MempoolError } from '../../../src/mempool/index.ts'
import { KEYS, PRODUCER, Signer, addressOf, openTestChain, type TestChain } from '../../helpers/chain.ts'

/** SELFBALANCE, then CALL(gas, CALLER, selfbalance, 0, 0, 0, 0): sends everything it holds to the caller. */
const DRAIN_CODE = '0x600060006000600047335af100'
const DRAIN: PrefixedHexString = `0x${'d7'.repeat(20)}`
const GWEI = 1_000_000_000n

/** The dev chain with an account allowlist (0..3 admins, 4 allowed, 5 not) and a drain contract at genesis. */
function permissionedSpec() {
  const json = presetJSON('dev')!
  json.permissions = { admins: [0, 1, 2, 3].map((i) => addressOf(i).toString()), accounts: [addressOf(4).toString()] }
  json.genesis.alloc[DRAIN] = { balance: '0', code: DRAIN_CODE }
  return parseChainSpec(json, 'permissioned-dev')
}

async function balanceOf(t: TestChain, index: number): Promise<bigint> {
  const a = await t.executor.readAccount(t.chain.head.header.stateRoot, addressOf(index))
  return a?.balance ?? 0n
}

/** Allowed account 4 calls account 5, carrying 5's authorization to run the drain code as 5. */
function setCodeAttack(t: TestChain, nonce = 0n): TypedTransaction {
  const authorization = eoaCode7702SignAuthorization({ chainId: `0x${t.common.chainId().toString(16)}`, address: DRAIN, nonce: '0x0' }, KEYS[5]!)
  return createEOACode7702Tx(
    {
      nonce,
      to: addressOf(5),
      value: 0n,
      gasLimit: 200_000n,
      maxFeePerGas: 100n * GWEI,
      maxPriorityFeePerGas: GWEI,
      authorizationList: [authorization],
      chainId: t.common.chainId(),
    },
    { common: t.common },
  ).sign(KEYS[4]!)
}

/**
 * ethereumjs builds a blob tx only under a Common with KZG functions. This tx carries no blobs
 * (the form a block body holds), so they are never called; Catena has no KZG library.
 */
function blobCommon(t: TestChain): Common {
  const unused = () => {
    throw new Error('KZG is not needed for a tx without blobs')
  }
  const kzg = { loadTrustedSetup: unused, blobToKzgCommitment: unused, computeBlobProof: unused, verifyProof: unused, verifyBlobProofBatch: unused }
  return makeCommon(t.common.chainId(), { ...ethereumCustomCrypto(), kzg: kzg as never })
}

function blobTx(t: TestChain): TypedTransaction {
  return createBlob4844Tx(
    {
      nonce: 0n,
      to: addressOf(9),
      value: 1n,
      gasLimit: 21_000n,
      maxFeePerGas: 100n * GWEI,
      maxPriorityFeePerGas: GWEI,
      maxFeePerBlobGas: 1n,
      blobVersionedHashes: [`0x01${'00'.repeat(31)}`],
      chainId: t.common.chainId(),
    },
    { common: blobCommon(t) },
  ).sign(KEYS[4]!)
}

/** A legacy tx signed the pre-EIP-155 way (v = 27/28): valid on every chain, so replayable on this one. */
function unprotectedTx(nonce = 0n): TypedTransaction {
  const homestead = new Common({ chain: Mainnet, hardfork: Hardfork.Homestead })
  return createLegacyTx({ nonce, to: addressOf(9), value: 1n, gasLimit: 21_000n, gasPrice: 100n * GWEI }, { common: homestead }).sign(KEYS[4]!)
}

async function build(t: TestChain, txs: TypedTransaction[]) {
  let i = 0
  return t.importer.build({ timestamp: t.chain.head.header.timestamp + 1n, producer: PRODUCER, source: { next: () => txs[i++], skipSender: () => {} } })
}

/**
 * What a hostile proposer gossips: a block on our head whose body carries `txs`. The header is
 * one our builder made for an empty block, with the tx root of the new body, so the body passes
 * every check before execution (size, tx root, gas limit, base fee).
 */
async function craftBlock(t: TestChain, txs: TypedTransaction[]): Promise<Block> {
  const empty = await build(t, [])
  return { header: { ...empty.block.header, txRoot: merkleRoot(txs.map(txBytes)) }, txs }
}

function poolFor(t: TestChain): Mempool {
  return new Mempool({
    common: t.common,
    chainId: t.common.chainId(),
    getAccount: async (a) => {
      const acct = await t.executor.readAccount(t.chain.head.header.stateRoot, a)
      return { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n }
    },
    limits: () => ({ minGasPrice: 1n, baseFee: GWEI, blockGasLimit: 30_000_000n, maxTxBytes: 128 * 1024 }),
  })
}

async function mempoolRefusal(t: TestChain, tx: TypedTransaction): Promise<MempoolError> {
  const pool = poolFor(t)
  const err = await pool.add(tx.serialize()).then(
    () => assert.fail('the mempool must refuse it'),
    (e: unknown) => e,
  )
  assert.ok(err instanceof MempoolError)
  return err
}

describe('tx policy: block validity is the same rule as the mempool', () => {
  test('permissioned chain: a set-code authorization from an account outside the allowlist moves nothing', async () => {
    const t = await openTestChain({ spec: permissionedSpec() })
    assert.equal(t.chain.permissions.after(0n)!.allowsAccount(addressOf(5).bytes), false, 'account 5 may not send')
    const before = await balanceOf(t, 5)
    assert.ok(before > 0n)
    const attack = setCodeAttack(t)

    // The builder leaves it out, with the policy's reason.
    const built = await build(t, [attack])
    assert.equal(built.block.txs.length, 0, 'a set-code tx is never built into a block')
    assert.deepEqual(built.execution.rejected.map((r) => r.reason), [(await mempoolRefusal(t, attack)).message])
    await t.importer.commit(built)
    assert.equal(await balanceOf(t, 5), before, "the outsider's funds did not move")

    // A proposer that includes it anyway: the block is invalid.
    const block = await craftBlock(t, [attack])
    await assert.rejects(t.importer.validate(block), (err: unknown) => {
      assert.ok(err instanceof BlockError, String(err))
      assert.equal(err.code, 'BAD_TX')
      assert.equal(err.message, `tx 0 (${bytesToHex(attack.hash())}): transaction type not supported: type 4 (EIP-7702 set-code); this chain accepts types 0 (legacy, EIP-155), 1 (EIP-2930) and 2 (EIP-1559)`)
      return true
    })
    assert.equal(t.chain.head.header.height, 1n, 'nothing imported')
    assert.equal(await balanceOf(t, 5), before)
  })

  for (const [name, make, code] of [
    ['a blob (type 3) tx', blobTx, 'TX_TYPE_NOT_SUPPORTED'],
    ['a set-code (type 4) tx', (t: TestChain) => setCodeAttack(t), 'TX_TYPE_NOT_SUPPORTED'],
    ['an unprotected (pre-EIP-155) legacy tx', () => unprotectedTx(), 'NOT_REPLAY_PROTECTED'],
  ] as const) {
    test(`${name} is refused by the mempool, the builder and import, with one message`, async () => {
      const t = await openTestChain({ spec: permissionedSpec() })
      const tx = make(t)
      const refusal = await mempoolRefusal(t, tx)
      assert.equal(refusal.code, code)
      assert.equal(refusal.malformed, true, 'a peer relaying it is penalized')

      const built = await build(t, [tx])
      assert.equal(built.block.txs.length, 0, 'never built into a block')
      assert.deepEqual(built.execution.rejected.map((r) => r.reason), [refusal.message])

      const headBefore = bytesToHex(t.chain.head.hash)
      await assert.rejects(t.importer.importBlock(await craftBlock(t, [tx])), (err: unknown) => {
        assert.ok(err instanceof BlockError, String(err))
        assert.equal(err.code, 'BAD_TX')
        assert.equal(err.message, `tx 0 (${bytesToHex(tx.hash())}): ${refusal.message}`)
        return true
      })
      assert.equal(bytesToHex(t.chain.head.hash), headBefore, 'the chain did not move')
    })
  }

  test('a supported tx after a refused one: the block is still refused at the bad tx', async () => {
    const t = await openTestChain({ spec: permissionedSpec() })
    const good = new Signer(t.common).transfer(4, addressOf(9).bytes, 1n)
    const bad = unprotectedTx(1n)
    await assert.rejects(t.importer.validate(await craftBlock(t, [good, bad])), (err: unknown) => err instanceof BlockError && err.code === 'BAD_TX' && err.message.startsWith(`tx 1 (${bytesToHex(bad.hash())}): only replay-protected`))
  })

  test('an unsigned tx in a body makes the block invalid (BAD_TX), it does not escape as another error', async () => {
    const t = await openTestChain({ spec: permissionedSpec() })
    const unsigned = createFeeMarket1559Tx({ nonce: 0n, to: addressOf(9), value: 1n, gasLimit: 21_000n, maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: GWEI, chainId: t.common.chainId() }, { common: t.common })
    await assert.rejects(t.importer.validate(await craftBlock(t, [unsigned])), (err: unknown) => {
      assert.ok(err instanceof BlockError, String(err))
      assert.equal(err.code, 'BAD_TX')
      assert.match(err.message, /^tx 0 \(0x[0-9a-f]{64}\): invalid sender/)
      return true
    })
  })
})
