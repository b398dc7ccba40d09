import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { Address } from '@ethereumjs/util'
import { DevEngine } from '../../../src/consensus/dev.ts'
import type { EngineHost } from '../../../src/consensus/index.ts'
import { Mempool } from '../../../src/mempool/pool.ts'
import { nextBaseFee } from '../../../src/chain/basefee.ts'
import { engineHost } from '../../helpers/engine-host.ts'
import { KEYS, openTestChain, PRODUCER, Signer, type TestChain } from '../../helpers/chain.ts'
import { DEV_SIGNER_KEY, devRules, signDevHeader } from '../../../src/consensus/dev-seal.ts'
import { privateKeyToAddress } from '../../../src/crypto/secp256k1.ts'
import { BlockError } from '../../../src/chain/errors.ts'

const DEAD = '0x000000000000000000000000000000000000dead'

/** A dev engine over a real in-memory chain and mempool, wired as node.ts wires them. */
async function setup(opts: { automine: boolean; intervalMs?: number; now?: () => bigint; signingKey?: Uint8Array }) {
  const signer = opts.signingKey ? { signer: privateKeyToAddress(opts.signingKey), signingKey: opts.signingKey } : {}
  // A signed chain imports under the dev rules, as a node does; else the helper's no-seal rules.
  const t: TestChain = await openTestChain(opts.signingKey ? { engine: devRules(signer) } : {})
  const mempool = new Mempool({
    common: t.common,
    chainId: t.spec.chainId,
    getAccount: async (a) => {
      const acct = await t.executor.readAccount(t.chain.head.header.stateRoot, a)
      return { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n }
    },
    limits: () => ({ minGasPrice: 1n, baseFee: nextBaseFee(t.chain.head.header, t.spec.feeMarket), blockGasLimit: 30_000_000n, maxTxBytes: 131072 }),
  })
  const engine = new DevEngine({ automine: opts.automine, intervalMs: opts.intervalMs ?? 0, producer: PRODUCER, now: opts.now, ...signer })
  const host: EngineHost = {
    ...engineHost(t),
    pendingTxCount: () => mempool.pendingCount,
    onPendingTx: (listener) => {
      mempool.on('added', listener)
      return () => mempool.off('added', listener)
    },
    produce: async ({ timestamp, seal }) => {
      const source = mempool.executable(nextBaseFee(t.chain.head.header, t.spec.feeMarket))
      const it = source[Symbol.iterator]()
      const produced = await t.importer.produce({
        timestamp,
        producer: engine.producer,
        seal,
        source: { next: () => it.next().value?.tx, skipSender: (s) => source.skipSender(new Address(s)) },
      })
      await mempool.onNewHead(produced.imported.block.txs.map((tx) => tx.hash()))
      return produced
    },
  }
  await engine.start(host)
  return { t, mempool, engine, signer: new Signer(t.common) }
}

async function submit(env: Awaited<ReturnType<typeof setup>>, from: number) {
  const tx = env.signer.transfer(from, DEAD, 1n)
  const { hash, status } = await env.mempool.add(tx.serialize())
  return env.engine.txSubmitted(hash, status).then(() => bytesToHex(hash))
}

describe('dev engine', () => {
  test('automine: a submission resolves once its tx is in a block; concurrent submissions share blocks', async () => {
    const env = await setup({ automine: true })
    const hashes = await Promise.all([0, 1, 2, 3, 4].map((i) => submit(env, i)))
    for (const h of hashes) assert.ok(env.t.chain.getTxLocation(Uint8Array.from(Buffer.from(h.slice(2), 'hex'))), `${h} mined`)
    assert.ok(env.t.chain.head.header.height >= 1n && env.t.chain.head.header.height < 5n, 'fewer blocks than txs')
    await env.engine.stop()
  })

  test('automine off: txs wait in the pool until evm_mine', async () => {
    const env = await setup({ automine: false })
    await submit(env, 0)
    assert.equal(env.t.chain.head.header.height, 0n)
    assert.equal(env.mempool.pendingCount, 1)
    await env.engine.rpcMethods().evm_mine([])
    assert.equal(env.t.chain.head.header.height, 1n)
    assert.equal(env.mempool.pendingCount, 0)
    await env.engine.stop()
  })

  test('hardhat_mine mines N blocks with spaced timestamps; evm_increaseTime moves the clock', async () => {
    const env = await setup({ automine: false, now: () => 1_800_000_000n })
    const methods = env.engine.rpcMethods()
    await methods.hardhat_mine(['0xa', '0x5'])
    assert.equal(env.t.chain.head.header.height, 10n)
    const ts = (h: bigint) => env.t.chain.getBlockAt(h)!.header.timestamp
    for (let h = 2n; h <= 10n; h++) assert.equal(ts(h) - ts(h - 1n), 5n)
    assert.equal(methods.evm_increaseTime([3600]), 3600)
    await methods.evm_mine([])
    assert.ok(ts(11n) >= 1_800_003_600n)
    await assert.rejects(async () => methods.evm_setNextBlockTimestamp(['0x1']), /before the head/)
    await assert.rejects(async () => methods.hardhat_mine(['0x1', '0x1', '0x1']), /too many arguments/)
    await env.engine.stop()
  })

  test('interval mining seals empty blocks on its own', async () => {
    const env = await setup({ automine: false, intervalMs: 20 })
    const deadline = Date.now() + 5000
    while (env.t.chain.head.header.height < 3n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    assert.ok(env.t.chain.head.header.height >= 3n)
    await env.engine.stop()
    const stoppedAt = env.t.chain.head.header.height
    await new Promise((r) => setTimeout(r, 60))
    assert.equal(env.t.chain.head.header.height, stoppedAt, 'no blocks after stop')
  })

  test('with a signer every block it makes is signed (automine, evm_mine, hardhat_mine, interval); another node imports them under the dev rules, and refuses a block signed by another key', async () => {
    const env = await setup({ automine: true, intervalMs: 0, signingKey: DEV_SIGNER_KEY })
    await submit(env, 0)
    const methods = env.engine.rpcMethods()
    await methods.evm_mine([])
    await methods.hardhat_mine(['0x5', '0x2'])
    await methods.evm_setIntervalMining([20])
    const deadline = Date.now() + 5000
    while (env.t.chain.head.header.height < 9n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    await env.engine.stop()
    const head = env.t.chain.head.header.height
    assert.ok(head >= 9n, `interval blocks too (head ${head})`)
    const rules = env.engine.rules
    for (let h = 1n; h <= head; h++) {
      const b = env.t.chain.getBlockAt(h)!
      assert.equal(b.header.seal.length, 65, `block ${h} is signed`)
      rules.verifyHeader(b.header, env.t.chain.getBlockAt(h - 1n)!.header)
    }

    // A follower with the same spec re-checks every block, seal first.
    const follower = await openTestChain({ engine: devRules({ signer: privateKeyToAddress(DEV_SIGNER_KEY) }) })
    for (let h = 1n; h <= head; h++) await follower.importer.importBlock(env.t.chain.getBlockAt(h)!)
    assert.deepEqual(follower.chain.head.hash, env.t.chain.head.hash)

    // The same block re-signed by another key (its hash changes with the seal): refused.
    const other = await openTestChain({ engine: devRules({ signer: privateKeyToAddress(DEV_SIGNER_KEY) }) })
    const first = env.t.chain.getBlockAt(1n)!
    await assert.rejects(other.importer.importBlock({ ...first, header: signDevHeader(first.header, KEYS[1]!) }), (err: unknown) => err instanceof BlockError && err.code === 'BAD_SEAL' && /not by the chain's producer/.test(err.message))
    await assert.rejects(other.importer.importBlock({ ...first, header: { ...first.header, seal: new Uint8Array(0) } }), (err: unknown) => err instanceof BlockError && err.code === 'BAD_SEAL')
    assert.equal(other.chain.head.header.height, 0n)
  })

  test('a signer without its key, or with the wrong key, is refused at construction', () => {
    const signer = privateKeyToAddress(DEV_SIGNER_KEY)
    assert.throws(() => new DevEngine({ automine: false, intervalMs: 0, producer: PRODUCER, signer }), /must be signed by .*needs its key/)
    assert.throws(() => new DevEngine({ automine: false, intervalMs: 0, producer: PRODUCER, signer, signingKey: KEYS[1]! }), /not .*the chain's signer/)
  })
})
