/**
 * The consensus plug-in point, proven with a toy engine (like ethereumjs's
 * customConsensus.spec.ts): an engine that signs nothing but requires every block's seal to
 * be the sha256 of its height, and produces a block whenever asked. The chain and node code
 * do not know it exists; only the ConsensusEngine interface connects them.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bigIntToBytes, bytesToHex, equalsBytes } from '@ethereumjs/util'
import pino from 'pino'
import { BlockError } from '../../../src/chain/errors.ts'
import type { BlockHeader } from '../../../src/chain/block.ts'
import type { ConsensusEngine, EngineHost } from '../../../src/consensus/index.ts'
import { sha256 } from '../../../src/crypto/hash.ts'
import { openTestChain, produceBlock, PRODUCER } from '../../helpers/chain.ts'

class HeightSealEngine implements ConsensusEngine {
  readonly type = 'toy-height-seal'
  readonly producer = PRODUCER
  host?: EngineHost
  static sealFor(height: bigint) {
    return sha256(bigIntToBytes(height))
  }
  verifyHeader(header: BlockHeader, parent: BlockHeader): void {
    assert.equal(header.height, parent.height + 1n)
    if (!equalsBytes(header.seal, HeightSealEngine.sealFor(header.height))) throw new BlockError('BAD_SEAL', 'seal is not sha256(height)')
  }
  async seal(header: BlockHeader): Promise<BlockHeader> {
    return { ...header, seal: HeightSealEngine.sealFor(header.height) }
  }
  async start(host: EngineHost) {
    this.host = host
  }
  async stop() {}
  async txSubmitted() {}
  rpcMethods() {
    return { toy_produce: async () => bytesToHex((await this.host!.produce({ timestamp: this.host!.head().header.timestamp + 1n })).imported.hash) }
  }
}

describe('consensus plug-in point', () => {
  test('a toy engine seals blocks that another node verifies with the same engine', async () => {
    const engine = new HeightSealEngine()
    const producer = await openTestChain({ engine })
    const follower = await openTestChain({ engine })
    const host: EngineHost = {
      head: () => producer.chain.head,
      log: pino({ level: 'silent' }),
      pendingTxCount: () => 0,
      onPendingTx: () => () => {},
      produce: ({ timestamp }) =>
        producer.importer.produce({ timestamp, producer: engine.producer, seal: (h) => engine.seal(h), source: { next: () => undefined, skipSender: () => {} } }),
    }
    await engine.start(host)
    for (let i = 0; i < 3; i++) await engine.rpcMethods().toy_produce()
    assert.equal(producer.chain.head.header.height, 3n)
    for (let h = 1n; h <= 3n; h++) await follower.importer.import(producer.chain.getBlockAt(h)!)
    assert.equal(bytesToHex(follower.chain.head.hash), bytesToHex(producer.chain.head.hash))
  })

  test('blocks without the toy seal are refused by a node running the toy engine', async () => {
    const engine = new HeightSealEngine()
    const unsealedProducer = await openTestChain()
    const follower = await openTestChain({ engine })
    const { imported } = await produceBlock(unsealedProducer, [])
    await assert.rejects(follower.importer.import(imported.block), (e: unknown) => e instanceof BlockError && e.code === 'BAD_SEAL')
  })
})
