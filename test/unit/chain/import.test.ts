import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Address, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { blockHash, encodeHeader, decodeHeader, type Block } from '../../../src/chain/block.ts'
import { BlockError } from '../../../src/chain/errors.ts'
import { merkleRoot } from '../../../src/crypto/merkle.ts'
import { openWorldState } from '../../../src/state/index.ts'
import { openTestChain, produceBlock, Signer, addressOf, PRODUCER, type TestChain } from '../../helpers/chain.ts'

const DEAD = '0x000000000000000000000000000000000000dead'

async function balance(t: TestChain, address: Address | string): Promise<bigint> {
  const a = await openWorldState(t.store, t.chain.head.header.stateRoot, t.common).manager.getAccount(
    typeof address === 'string' ? new Address(hexToBytes(address as `0x${string}`)) : address,
  )
  return a?.balance ?? 0n
}

/** Builds a valid block on a producer chain, returns it plus a fresh chain at the same parent. */
async function validBlock(txCount = 3): Promise<{ block: Block; follower: TestChain }> {
  const producer = await openTestChain()
  const follower = await openTestChain()
  const signer = new Signer(producer.common)
  const txs = Array.from({ length: txCount }, (_, i) => signer.transfer(i % 3, DEAD, 1000n + BigInt(i)))
  const { imported } = await produceBlock(producer, txs)
  return { block: imported.block, follower }
}

function tamper(block: Block, change: (b: Block) => void): Block {
  const copy: Block = { header: decodeHeader(encodeHeader(block.header)), txs: [...block.txs] }
  change(copy)
  return copy
}

async function rejects(follower: TestChain, block: Block, code: string) {
  const head = follower.chain.head.hash
  await assert.rejects(follower.importer.import(block), (err: unknown) => {
    assert.ok(err instanceof BlockError, `expected BlockError, got ${err}`)
    assert.equal(err.code, code, err.message)
    assert.ok(err.message.length > 10)
    return true
  })
  assert.equal(bytesToHex(follower.chain.head.hash), bytesToHex(head), 'a rejected block must not move the head')
}

describe('block production and import', () => {
  test('a produced block is imported by another node with identical state', async () => {
    const { block, follower } = await validBlock()
    const imported = await follower.importer.import(block)
    assert.equal(follower.chain.head.header.height, 1n)
    assert.equal(bytesToHex(imported.hash), bytesToHex(blockHash(block.header)))
    assert.equal(await balance(follower, DEAD), 1000n + 1001n + 1002n)
    assert.equal(imported.receipts.length, 3)
    assert.ok(imported.receipts.every((r) => r.status === 1))
  })

  test('value transfers move balances and pay the producer reward plus tips', async () => {
    const t = await openTestChain()
    const signer = new Signer(t.common)
    const before = await balance(t, addressOf(0))
    const tx = signer.transfer(0, DEAD, 5n * 10n ** 18n)
    const { imported } = await produceBlock(t, [tx])
    const baseFee = imported.block.header.baseFee
    const tip = 1_000_000_000n
    assert.equal(await balance(t, addressOf(0)), before - 5n * 10n ** 18n - 21000n * (baseFee + tip))
    assert.equal(await balance(t, new Address(PRODUCER)), 2n * 10n ** 18n + 21000n * tip)
    assert.equal(t.chain.getIssued(imported.hash), t.chain.getIssued(t.chain.genesisHash) + 2n * 10n ** 18n)
  })

  test('the builder skips txs that cannot execute and reports them', async () => {
    const t = await openTestChain()
    const signer = new Signer(t.common)
    const good = signer.transfer(1, DEAD, 1n)
    const badNonce = signer.transfer(2, DEAD, 1n, { nonce: 7n })
    const { imported, rejected } = await produceBlock(t, [good, badNonce])
    assert.equal(imported.block.txs.length, 1)
    assert.equal(rejected.length, 1)
    assert.match(rejected[0].reason, /nonce/)
  })

  test('blocks respect the gas limit: txs that do not fit wait', async () => {
    const t = await openTestChain()
    const signer = new Signer(t.common)
    const big = Array.from({ length: 1500 }, (_, i) => signer.transfer(i % 10, DEAD, 1n))
    const { imported } = await produceBlock(t, big)
    assert.equal(imported.block.txs.length, Number(30_000_000n / 21000n))
    assert.ok(imported.block.header.gasUsed <= imported.block.header.gasLimit)
  })

  test('unknown parent', async () => {
    const { block, follower } = await validBlock()
    await rejects(follower, tamper(block, (b) => (b.header.parentHash = new Uint8Array(32).fill(7))), 'UNKNOWN_PARENT')
  })

  test('wrong height', async () => {
    const { block, follower } = await validBlock()
    await rejects(follower, tamper(block, (b) => (b.header.height = 5n)), 'BAD_HEIGHT')
  })

  test('timestamp before the parent, and too far in the future', async () => {
    const { block, follower } = await validBlock()
    await rejects(follower, tamper(block, (b) => (b.header.timestamp = 1n)), 'TIME_TOO_OLD')
    await rejects(follower, tamper(block, (b) => (b.header.timestamp = BigInt(Math.floor(Date.now() / 1000)) + 3600n)), 'TIME_TOO_NEW')
  })

  test('tx root that does not match the txs', async () => {
    const { block, follower } = await validBlock()
    await rejects(follower, tamper(block, (b) => b.txs.reverse()), 'BAD_TX_ROOT')
    await rejects(follower, tamper(block, (b) => b.txs.pop()), 'BAD_TX_ROOT')
  })

  test('wrong state root, receipts root, logs bloom, gas used', async () => {
    const { block, follower } = await validBlock()
    await rejects(follower, tamper(block, (b) => (b.header.stateRoot = new Uint8Array(32).fill(1))), 'BAD_STATE_ROOT')
    await rejects(follower, tamper(block, (b) => (b.header.receiptsRoot = new Uint8Array(32).fill(1))), 'BAD_RECEIPTS_ROOT')
    await rejects(follower, tamper(block, (b) => (b.header.logsBloom = new Uint8Array(256).fill(1))), 'BAD_LOGS_BLOOM')
    await rejects(follower, tamper(block, (b) => (b.header.gasUsed = b.header.gasUsed + 1n)), 'BAD_GAS_USED')
  })

  test('gas limit and base fee must follow the chain spec', async () => {
    const { block, follower } = await validBlock()
    await rejects(follower, tamper(block, (b) => (b.header.gasLimit = 29_000_000n)), 'GAS_LIMIT')
    await rejects(follower, tamper(block, (b) => (b.header.baseFee = 7n)), 'BAD_BASE_FEE')
    await rejects(follower, tamper(block, (b) => (b.header.gasUsed = b.header.gasLimit + 1n)), 'GAS_USED_OVER_LIMIT')
  })

  test('a block over the byte limit is rejected', async () => {
    const producer = await openTestChain()
    const spec = { ...producer.spec, limits: { ...producer.spec.limits, maxBlockBytes: 1500 } }
    const follower = await openTestChain({ spec })
    const signer = new Signer(producer.common)
    const txs = Array.from({ length: 12 }, (_, i) => signer.transfer(i % 3, DEAD, 1n))
    const { imported } = await produceBlock(producer, txs)
    await rejects(follower, imported.block, 'TOO_LARGE')
  })

  test('a tx that cannot execute makes the block invalid', async () => {
    const producer = await openTestChain()
    const follower = await openTestChain()
    const signer = new Signer(producer.common)
    const first = await produceBlock(producer, [signer.transfer(0, DEAD, 1n)])
    await follower.importer.import(first.imported.block)
    const next = await produceBlock(producer, [signer.transfer(0, DEAD, 1n)])
    // Block 2 with its tx swapped for a replay of nonce 0; the tx root is kept consistent so
    // the failure comes from execution, not from the root check.
    const invalid = tamper(next.imported.block, (b) => (b.txs = [signer.transfer(0, DEAD, 1n, { nonce: 0n })]))
    invalid.header.txRoot = merkleRoot(invalid.txs.map((tx) => tx.serialize()))
    await rejects(follower, invalid, 'BAD_TX')
    await follower.importer.import(next.imported.block)
    assert.equal(follower.chain.head.header.height, 2n)
  })

  test('dev blocks are rejected when they carry a seal (engine rule)', async () => {
    const { DevEngine } = await import('../../../src/consensus/dev.ts')
    const engine = new DevEngine({ automine: false, intervalMs: 0, producer: PRODUCER })
    const producer = await openTestChain()
    const follower = await openTestChain({ engine: engine.rules })
    const { imported } = await produceBlock(producer, [])
    const sealed = tamper(imported.block, (b) => (b.header.seal = Uint8Array.of(1)))
    await rejects(follower, sealed, 'BAD_SEAL')
    await follower.importer.import(imported.block)
  })

  test('malformed header bytes give a typed error', () => {
    assert.throws(() => decodeHeader(Uint8Array.of(0xc1, 0x80)), (e: unknown) => e instanceof BlockError && e.code === 'MALFORMED')
    assert.throws(() => decodeHeader(Uint8Array.of(0xff)), (e: unknown) => e instanceof BlockError && e.code === 'MALFORMED')
  })

  test('build and validate do not commit; commit does, and only on the head they started from', async () => {
    const t = await openTestChain()
    const other = await openTestChain()
    const signer = new Signer(t.common)
    const tx = signer.transfer(0, DEAD, 1n)
    let i = 0
    const source = { next: () => [tx][i++], skipSender: () => {} }
    const built = await t.importer.build({ timestamp: t.chain.head.header.timestamp + 1n, producer: PRODUCER, source })
    assert.equal(t.chain.head.header.height, 0n, 'build does not move the head')
    assert.equal(built.block.txs.length, 1)

    const validated = await other.importer.validate(built.block)
    assert.equal(other.chain.head.header.height, 0n, 'validate does not move the head')
    await other.importer.commit(validated)
    assert.equal(other.chain.head.header.height, 1n)
    assert.equal(await balance(other, DEAD), 1n)

    await t.importer.commit(built)
    assert.equal(bytesToHex(t.chain.head.hash), bytesToHex(other.chain.head.hash))
    const stale = await other.importer.build({ timestamp: other.chain.head.header.timestamp + 1n, producer: PRODUCER, source: { next: () => undefined, skipSender: () => {} } })
    await produceBlock(other, [])
    await assert.rejects(other.importer.commit(stale), (e: unknown) => e instanceof BlockError && e.code === 'NOT_EXTENDING_HEAD')
  })
})

describe('a hard fork that changes the chain id (replay protection)', () => {
  const FORK = 3n
  async function forkedChains() {
    const { loadChainSpec } = await import('../../../src/chain/spec/index.ts')
    const spec = loadChainSpec('dev')
    const forked = { ...spec, forks: [{ name: 'split', height: FORK, changes: { chainId: 1342n } }] }
    const producer = await openTestChain({ spec: forked })
    const follower = await openTestChain({ spec: forked })
    const legacy = await openTestChain({ spec }) // a node that did not adopt the fork
    return { producer, follower, legacy }
  }

  test('the Common follows the schedule: old id before the fork, new id from its height', async () => {
    const { producer } = await forkedChains()
    assert.equal(producer.chain.commons.chainIdAt(FORK - 1n), 1337n)
    assert.equal(producer.chain.commons.chainIdAt(FORK), 1342n)
    assert.equal(producer.chain.commons.at(FORK).chainId(), 1342n)
    assert.ok(producer.chain.commons.forksChainId)
  })

  test('txs signed for the old id stop at the fork, txs for the new id start there, in building and in import', async () => {
    const { producer, follower, legacy } = await forkedChains()
    const oldSigner = new Signer(producer.chain.commons.at(0n))
    const newSigner = new Signer(producer.chain.commons.at(FORK))
    // Before the fork: an old-id tx is in, a new-id tx is refused by the builder.
    for (let h = 1n; h < FORK; h++) {
      const early = newSigner.transfer(2, DEAD, 5n, { nonce: 0n })
      const { imported, rejected } = await produceBlock(producer, [oldSigner.transfer(0, DEAD, 1n), early])
      assert.equal(imported.block.txs.length, 1)
      assert.match(rejected[0]!.reason, /invalid chain id: have 1342 want 1337/)
      await follower.importer.import(imported.block)
      await legacy.importer.import(imported.block) // identical rules before the fork
    }
    // At the fork: the old-id tx is refused and the new-id tx goes in.
    const replayed = oldSigner.transfer(0, DEAD, 1n)
    const fresh = newSigner.transfer(1, DEAD, 7n)
    const { imported, rejected } = await produceBlock(producer, [replayed, fresh])
    assert.deepEqual(imported.block.txs.map((tx) => bytesToHex(tx.hash())), [bytesToHex(fresh.hash())], JSON.stringify(rejected.map((r) => r.reason)))
    assert.match(rejected[0]!.reason, /invalid chain id: have 1337 want 1342/)
    await follower.importer.import(imported.block)
    assert.equal(bytesToHex(follower.chain.head.hash), bytesToHex(producer.chain.head.hash))
    // The node without the fork cannot even read the fork block's tx (its chain id is unknown there).
    const { encodeBlockEnvelope, decodeBlockEnvelope, decodeRawBody } = await import('../../../src/chain/block.ts')
    assert.throws(() => decodeRawBody(decodeBlockEnvelope(encodeBlockEnvelope(imported.block)), legacy.chain.commons), /chain ID|chainId|chain id/i)
    // And a block that carries an old-id tx past the fork is invalid to the forked node.
    const smuggled = await produceBlock(legacy, [replayed])
    assert.equal(smuggled.imported.block.txs.length, 1)
    await assert.rejects(follower.importer.import(smuggled.imported.block), (e: unknown) => e instanceof BlockError)
  })
})
