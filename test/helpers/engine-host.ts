/**
 * An EngineHost over a test chain (test/helpers/chain.ts): every step an engine may use, done
 * by the chain's real importer, exactly as node/node.ts wires them. Tests override the parts
 * they drive themselves (a mempool, block sync).
 */
import type { TypedTransaction } from '@ethereumjs/tx'
import pino from 'pino'
import type { ImportedBlock } from '../../src/chain/chain.ts'
import type { EngineHost } from '../../src/consensus/index.ts'
import { PRODUCER, type TestChain } from './chain.ts'

export interface TestHostOptions {
  /** Credited for produced blocks (default PRODUCER). */
  producer?: Uint8Array
  /** The txs the next block is built from (default none). */
  txs?: () => TypedTransaction[]
  requestSync?: () => void
}

export function engineHost(t: TestChain, opts: TestHostOptions = {}): EngineHost {
  // As the node's mempool source: nothing is handed out after the deadline (ms since the epoch).
  const source = (deadline?: number) => {
    const txs = opts.txs?.() ?? []
    let i = 0
    return { next: () => (deadline !== undefined && Date.now() > deadline ? undefined : txs[i++]), skipSender: () => {}, ...(deadline !== undefined ? { deadline } : {}) }
  }
  return {
    head: () => t.chain.head,
    log: pino({ level: 'silent' }),
    pendingTxCount: () => opts.txs?.().length ?? 0,
    onPendingTx: () => () => {},
    onHead: (listener: (b: ImportedBlock) => void) => {
      t.chain.on('block', listener)
      return () => t.chain.off('block', listener)
    },
    produce: ({ timestamp, seal }) => t.importer.produce({ timestamp, producer: opts.producer ?? PRODUCER, seal, source: source() }),
    build: ({ timestamp, producer, presetSeal, parentHash, deadline }) => t.importer.build({ timestamp, producer, presetSeal, source: source(deadline), ...(parentHash ? { parentHash } : {}) }),
    validate: (block) => t.importer.validate(block),
    commit: (executed, proof) => t.importer.commit(executed, { proof, durable: true }),
    blockAt: (height) => t.chain.getBlockAt(height),
    proofOf: (hash) => t.chain.getProof(hash),
    requestSync: () => opts.requestSync?.(),
    reorganize: async (tip) => {
      await t.importer.switchTo(tip)
    },
    onSideBlock: (listener: (b: ImportedBlock) => void) => {
      t.chain.on('side', listener)
      return () => t.chain.off('side', listener)
    },
    blockByHash: (hash) => t.chain.getBlock(hash),
    publishBlock: () => {},
  }
}
