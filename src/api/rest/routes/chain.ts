/** GET /v1/chain: what chain this node follows and where its head and finalized block are. */
import { bytesToHex } from '@ethereumjs/util'
import type { FastifyInstance } from 'fastify'
import type { RestContext } from '../context.ts'
import { chainSchema, responses } from '../schemas.ts'

export function chainRoutes(app: FastifyInstance, ctx: RestContext): void {
  app.get('/chain', {
    schema: {
      tags: ['chain'],
      summary: 'Chain identity, head and finalized block',
      response: responses(chainSchema),
    },
  }, async () => {
    const { chain, view } = ctx
    const spec = chain.spec
    const head = chain.head
    const finalized = view.finalized()
    return {
      name: spec.name,
      chainId: Number(spec.chainId),
      engine: spec.engine.type,
      consensus: ctx.consensus.flavour,
      blockTime: spec.blockTimeMs / 1000,
      genesisHash: bytesToHex(chain.genesisHash),
      head: { height: Number(head.header.height), hash: bytesToHex(head.hash), timestamp: Number(head.header.timestamp) },
      finalized: { height: Number(finalized.height), hash: bytesToHex(finalized.hash) },
      clientVersion: ctx.opts.clientVersion ?? 'catena',
      peerCount: ctx.network?.peers().length ?? 0,
      pendingTxs: ctx.mempool.pendingCount,
    }
  })
}
