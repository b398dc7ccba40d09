/** GET /v1/accounts/:address (state at the head) and GET /v1/accounts/:address/txs (address index). */
import { Address, KECCAK256_NULL, bytesToHex } from '@ethereumjs/util'
import type { FastifyInstance } from 'fastify'
import { addressTxs } from '../../../chain/address-index.ts'
import { AddressError, parseAddress } from '../../../crypto/index.ts'
import type { RestContext } from '../context.ts'
import { decodePosition, encodePosition } from '../cursor.ts'
import { badRequest } from '../errors.ts'
import { checksum, txSummary, type TxSummaryJSON } from '../format.ts'
import { accountSchema, addressParams, listOf, pageQuery, responses, txSummarySchema } from '../schemas.ts'

function addressOf(text: string): Address {
  try {
    return new Address(parseAddress(text))
  } catch (err) {
    if (err instanceof AddressError) throw badRequest(err.message)
    throw err
  }
}

export function accountRoutes(app: FastifyInstance, ctx: RestContext): void {
  app.get('/accounts/:address', {
    schema: {
      tags: ['accounts'],
      summary: 'Balance, nonce and code of an account at the head',
      params: addressParams,
      response: responses(accountSchema),
    },
  }, async (request) => {
    const address = addressOf((request.params as { address: string }).address)
    const root = ctx.chain.head.header.stateRoot
    const account = await ctx.opts.readAccount(root, address)
    const code = account ? await ctx.opts.readCode(root, address) : new Uint8Array()
    return {
      address: checksum(address.bytes),
      balance: (account?.balance ?? 0n).toString(),
      nonce: Number(account?.nonce ?? 0n),
      isContract: code.length > 0,
      codeSize: code.length,
      codeHash: bytesToHex(account?.codeHash ?? KECCAK256_NULL),
    }
  })

  app.get('/accounts/:address/txs', {
    schema: {
      tags: ['accounts'],
      summary: 'Transactions an account sent, received or created, newest first',
      description: 'Served from the address index; a node upgraded from a store without it lists txs of blocks imported since the upgrade.',
      params: addressParams,
      querystring: pageQuery,
      response: responses(listOf(txSummarySchema)),
    },
  }, async (request) => {
    const address = addressOf((request.params as { address: string }).address)
    const { limit, cursor } = request.query as { limit: number; cursor?: string }
    const before = decodePosition('account-txs', cursor)
    const refs = await addressTxs(ctx.chain.store, address, {
      limit: limit + 1,
      ...(before ? { before: { height: BigInt(before.height), index: before.index } } : {}),
    })
    const more = refs.length > limit
    const items: TxSummaryJSON[] = []
    for (const ref of refs.slice(0, limit)) {
      const blockHash = ctx.chain.getHashAt(ref.height)
      const found = blockHash && ctx.view.txAt(blockHash, ref.index)
      if (found) items.push(txSummary(found.tx, found.mined))
    }
    const last = refs[Math.min(limit, refs.length) - 1]
    return { items, nextCursor: more && last ? encodePosition('account-txs', { height: last.height, index: last.index }) : null }
  })
}
