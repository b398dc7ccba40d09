/**
 * Admin routes, behind an API key: connect to a peer, ban and unban one, submit a permission change
 * (governance vote) on a permissioned chain, shut the node down. The key check runs first
 * (onRequest), so a caller without a key learns nothing about the input.
 */
import type { FastifyInstance } from 'fastify'
import { createTxFromRLP } from '@ethereumjs/tx'
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { decodeFunctionData } from 'viem'
import { PERMISSIONS_ABI, PERMISSIONS_ADDRESS, permissionsRevertReason } from '../../../contracts/permissions.ts'
import { MempoolError } from '../../../mempool/errors.ts'
import type { RestContext } from '../context.ts'
import { RestError, badRequest } from '../errors.ts'
import { addPeerBodySchema, addPeerResultSchema, banBodySchema, banResultSchema, peerIdParams, permissionsTxBody, permissionsTxResult, responses, shutdownSchema } from '../schemas.ts'

const GOVERNANCE_CALLS = new Set(['propose', 'vote', 'execute'])

const security: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKey: [] }]

export function adminRoutes(app: FastifyInstance, ctx: RestContext): void {
  const guard = ctx.keys.guard()
  const network = () => {
    if (!ctx.network) throw new RestError('UNAVAILABLE', 'networking is off on this node (start it with --p2p-port): there are no peers')
    return ctx.network
  }
  /** Net errors for a malformed peer id become 400s. */
  const peerCall = <T>(fn: () => T): T => {
    try {
      return fn()
    } catch (err) {
      if ((err as { code?: string }).code === 'BAD_PEER_ID') throw badRequest((err as Error).message)
      throw err
    }
  }

  // Bitcoin Core's `addnode ... onetry`, geth's admin_addPeer: the operator names a peer to dial.
  app.post('/admin/peers', {
    onRequest: guard,
    schema: {
      tags: ['admin'],
      summary: 'Connect to a peer (dials it and waits for the status handshake)',
      security,
      body: addPeerBodySchema,
      response: responses(addPeerResultSchema),
    },
  }, async (request) => {
    const { addr } = request.body as { addr: string }
    const net = network()
    let id: string
    try {
      id = await net.connect(addr)
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'BAD_CONFIG') throw badRequest((err as Error).message)
      if (code === 'DIAL_FAILED') throw new RestError('UNAVAILABLE', (err as Error).message)
      throw err
    }
    ctx.opts.logger.info({ peer: id, addr }, 'connected to a peer through the admin API')
    return { id, connected: true }
  })

  app.post('/admin/peers/:id/ban', {
    onRequest: guard,
    schema: {
      tags: ['admin'],
      summary: 'Ban a peer (disconnects it; it cannot reconnect until the ban ends)',
      security,
      params: peerIdParams,
      body: banBodySchema,
      response: responses(banResultSchema),
    },
  }, async (request) => {
    const { id } = request.params as { id: string }
    const body = (request.body ?? {}) as { reason?: string; durationMs?: number }
    const net = network()
    const entry = peerCall(() => net.ban(id, body.reason ?? 'banned by an operator (REST admin API)', body.durationMs))
    ctx.opts.logger.warn({ peer: id, until: entry.until, reason: entry.reason }, 'peer banned through the admin API')
    return { id: entry.peerId, banned: true, until: entry.until, reason: entry.reason }
  })

  app.delete('/admin/peers/:id/ban', {
    onRequest: guard,
    schema: {
      tags: ['admin'],
      summary: 'Lift a ban (and forgive the penalty points)',
      security,
      params: peerIdParams,
      response: responses(banResultSchema),
    },
  }, async (request) => {
    const { id } = request.params as { id: string }
    const net = network()
    const lifted = peerCall(() => net.unban(id))
    ctx.opts.logger.info({ peer: id, lifted }, 'peer ban lifted through the admin API')
    return { id, banned: false, until: null, reason: null, wasBanned: lifted }
  })

  app.post('/admin/permissions', {
    onRequest: guard,
    schema: {
      tags: ['admin'],
      summary: 'Submit a permission change: an admin-signed propose, vote or execute on the Permissions contract',
      description:
        'The tx is signed by an admin elsewhere (keys never reach the node). It is checked against the ' +
        'contract first, as eth_call would run it, so a refusal names the contract\'s reason; then it ' +
        'enters the mempool. The change takes effect when the vote reaches a majority on chain.',
      security,
      body: permissionsTxBody,
      response: responses(permissionsTxResult, 202),
    },
  }, async (request, reply) => {
    if (!ctx.chain.spec.permissions) throw badRequest('this chain has no permissions contract (not a permissioned chain)')
    const raw = hexToBytes((request.body as { rawTransaction: `0x${string}` }).rawTransaction)
    const common = ctx.chain.commons.at(ctx.chain.head.header.height + 1n)
    let tx
    try {
      tx = createTxFromRLP(raw, { common })
    } catch (err) {
      throw badRequest(`rawTransaction is not a signed transaction for this chain: ${(err as Error).message}`)
    }
    if (!tx.to || !equalsBytes(tx.to.bytes, hexToBytes(PERMISSIONS_ADDRESS))) throw badRequest(`the tx must call the Permissions contract at ${PERMISSIONS_ADDRESS}`)
    let call
    try {
      call = decodeFunctionData({ abi: PERMISSIONS_ABI, data: bytesToHex(tx.data) })
    } catch {
      throw badRequest('the tx data is not a Permissions contract call')
    }
    if (!GOVERNANCE_CALLS.has(call.functionName)) throw badRequest(`${call.functionName} is not a governance action (propose, vote or execute)`)
    const sender = tx.getSenderAddress()
    if (ctx.opts.callAtHead) {
      const out = await ctx.opts.callAtHead({ from: sender.bytes, to: tx.to.bytes, data: tx.data, value: tx.value })
      if (!out.success) throw badRequest(`${call.functionName} refused by the contract: ${permissionsRevertReason(out.returnValue) ?? 'reverted'}`)
    }
    let added
    try {
      added = await ctx.mempool.add(raw)
    } catch (err) {
      if (err instanceof MempoolError) throw badRequest(`the mempool refused the tx: ${err.message}`)
      throw err
    }
    const args = (call.args ?? []).map((a) => String(a))
    ctx.opts.logger.warn({ ip: request.ip, action: call.functionName, args, sender: sender.toString(), hash: bytesToHex(added.hash) }, 'permission change submitted through the admin API')
    return reply.code(202).send({
      hash: bytesToHex(added.hash),
      status: added.status,
      sender: sender.toString(),
      action: call.functionName,
      args,
      message: `${call.functionName}(${args.join(', ')}) submitted; it takes effect when mined${call.functionName === 'execute' ? '' : ' and the vote reaches a majority'}`,
    })
  })

  app.post('/admin/shutdown', {
    onRequest: guard,
    schema: {
      tags: ['admin'],
      summary: 'Stop the node cleanly (answers first, then shuts down)',
      security,
      response: responses(shutdownSchema, 202),
    },
  }, async (request, reply) => {
    const shutdown = ctx.opts.shutdown
    if (!shutdown) throw new RestError('UNAVAILABLE', 'this node cannot be shut down through the API')
    ctx.opts.logger.warn({ ip: request.ip }, 'shutdown requested through the admin API')
    // Stop only once the answer is out: closing the server waits for in-flight requests.
    reply.raw.once('finish', () => setImmediate(() => void Promise.resolve().then(shutdown).catch((err) => ctx.opts.logger.error({ err }, 'shutdown failed'))))
    return reply.code(202).send({ stopping: true, message: 'the node is shutting down' })
  })
}
