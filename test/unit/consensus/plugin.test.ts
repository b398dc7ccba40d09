/**
 * The consensus plug-in point, proven with a toy engine (like ethereumjs's
 * customConsensus.spec.ts). The toy's rules: a block's seal is sha256 of its height; a block
 * from elsewhere is imported only with a proof, sha256 of its hash ("a certificate"), which is
 * stored with it; the producer earns a bonus paid by a block-level state change every 2nd
 * block; a block is final 2 blocks deep. The chain and node code do not know it exists: only
 * the ConsensusEngine interface and its BlockRules connect them.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Address, bigIntToBytes, bytesToHex, equalsBytes } from '@ethereumjs/util'
import { BlockError } from '../../../src/chain/errors.ts'
import type { Block, BlockHeader } from '../../../src/chain/block.ts'
import { finalityAt, type BlockRules, type BranchView } from '../../../src/chain/rules.ts'
import type { ConsensusEngine, EngineHost } from '../../../src/consensus/index.ts'
import { sha256 } from '../../../src/crypto/hash.ts'
import { openWorldState } from '../../../src/state/index.ts'
import { openTestChain, produceBlock, type TestChain } from '../../helpers/chain.ts'
import { engineHost } from '../../helpers/engine-host.ts'

const TOY_PRODUCER = new Uint8Array(20).fill(0x70)

class HeightSealEngine implements ConsensusEngine {
  readonly type = 'toy-height-seal'
  readonly producer = TOY_PRODUCER
  host?: EngineHost
  static sealFor(height: bigint) {
    return sha256(bigIntToBytes(height))
  }
  readonly rules: BlockRules = {
    verifyHeader(header: BlockHeader, parent: BlockHeader): void {
      assert.equal(header.height, parent.height + 1n)
      if (!equalsBytes(header.seal, HeightSealEngine.sealFor(header.height))) throw new BlockError('BAD_SEAL', 'seal is not sha256(height)')
    },
    verifyProof(_header: BlockHeader, hash: Uint8Array, proof: Uint8Array | undefined): void {
      if (!proof) throw new BlockError('MISSING_PROOF', 'toy blocks come with sha256(hash)')
      if (!equalsBytes(proof, sha256(hash))) throw new BlockError('BAD_PROOF', 'proof is not sha256(hash)')
    },
    // A check that needs the whole block and takes time (as re-hashing a PoH slot does): no extraData.
    async verifyBlock(block: Block): Promise<void> {
      await new Promise((r) => setImmediate(r))
      if (block.header.extraData.length > 0) throw new BlockError('BAD_SEAL', 'toy blocks carry no extraData')
    },
    // A state change of the engine's own: a bonus of 7 wei to the producer of every 2nd block.
    blockEffects: (branch: BranchView) => (branch.height % 2n === 0n ? { maturedReward: { to: TOY_PRODUCER, amount: 7n, height: branch.height } } : {}),
    finality: (head: bigint) => ({ finalized: head > 2n ? head - 2n : 0n, safe: head > 1n ? head - 1n : 0n }),
  }
  async start(host: EngineHost) {
    this.host = host
  }
  async stop() {}
  async txSubmitted() {}
  rpcMethods() {
    return {
      toy_produce: async () =>
        bytesToHex((await this.host!.produce({ timestamp: this.host!.head().header.timestamp + 1n, seal: async (h) => ({ ...h, seal: HeightSealEngine.sealFor(h.height) }) })).imported.hash),
    }
  }
}

async function balance(t: TestChain, address: Uint8Array): Promise<bigint> {
  const a = await openWorldState(t.store, t.chain.head.header.stateRoot, t.common).manager.getAccount(new Address(address))
  return a?.balance ?? 0n
}

describe('consensus plug-in point', () => {
  test('a toy engine produces blocks that another node imports only with their proof, under the same rules', async () => {
    const engine = new HeightSealEngine()
    const producer = await openTestChain({ engine: engine.rules })
    const follower = await openTestChain({ engine: engine.rules })
    await engine.start(engineHost(producer, { producer: engine.producer }))
    for (let i = 0; i < 4; i++) await engine.rpcMethods().toy_produce()
    assert.equal(producer.chain.head.header.height, 4n)
    for (let h = 1n; h <= 4n; h++) {
      const hash = producer.chain.getHashAt(h)!
      const block = producer.chain.getBlockAt(h)!
      await assert.rejects(follower.importer.import(block), (e: unknown) => e instanceof BlockError && e.code === 'MISSING_PROOF')
      await assert.rejects(follower.importer.import(block, sha256(Uint8Array.of(1))), (e: unknown) => e instanceof BlockError && e.code === 'BAD_PROOF')
      await follower.importer.import(block, sha256(hash))
      assert.deepEqual(follower.chain.getProof(hash), sha256(hash), 'the proof is stored with the block')
    }
    assert.equal(bytesToHex(follower.chain.head.hash), bytesToHex(producer.chain.head.hash))
    // The engine's block-level state change ran on both nodes (blocks 2 and 4), with the same state root.
    assert.ok((await balance(follower, TOY_PRODUCER)) >= 14n)
    // The engine's finality rule is the one answer for "finalized" and "safe".
    assert.deepEqual(finalityAt(engine.rules, follower.chain.head.header.height), { finalized: 2n, safe: 3n })
  })

  test("the engine's whole-block check runs before execution and refuses what it finds", async () => {
    const engine = new HeightSealEngine()
    const producer = await openTestChain({ engine: engine.rules })
    const follower = await openTestChain({ engine: engine.rules })
    let executed = 0
    const replay = follower.executor.replay.bind(follower.executor)
    follower.executor.replay = (...args) => {
      executed++
      return replay(...args)
    }
    const { imported } = await producer.importer.produce({
      timestamp: producer.chain.head.header.timestamp + 1n,
      producer: TOY_PRODUCER,
      extraData: Uint8Array.of(1),
      seal: async (h) => ({ ...h, seal: HeightSealEngine.sealFor(h.height) }),
      source: { next: () => undefined, skipSender: () => {} },
    })
    await assert.rejects(follower.importer.import(imported.block, sha256(imported.hash)), (e: unknown) => e instanceof BlockError && /extraData/.test(e.message))
    assert.equal(executed, 0, 'refused before execution')
  })

  test('blocks without the toy seal are refused by a node running the toy engine', async () => {
    const engine = new HeightSealEngine()
    const unsealedProducer = await openTestChain()
    const follower = await openTestChain({ engine: engine.rules })
    const { imported } = await produceBlock(unsealedProducer, [])
    await assert.rejects(follower.importer.import(imported.block, sha256(imported.hash)), (e: unknown) => e instanceof BlockError && e.code === 'BAD_SEAL')
  })
})
