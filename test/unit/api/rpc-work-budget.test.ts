/**
 * Heavy methods (calls) under a real JSON-RPC server: the entries of one batch share one
 * deadline and run two at a time, light entries of the batch are not held back, and one client
 * address runs at most four heavy entries at once over all its batches and sockets, while
 * another address is not held back by it.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { createRpcServer, type RpcServer } from '../../../src/api/rpc/index.ts'
import { withBudget } from '../../../src/api/rpc/work-budget.ts'
import { captureLogger, waitFor } from './rpc-helpers.ts'

/** A server whose `heavy` method holds its slot until the test opens the gate. */
function gatedServer() {
  const state = { active: 0, max: 0, open: undefined as (() => void) | undefined }
  let gate = new Promise<void>((resolve) => { state.open = resolve })
  const server = createRpcServer({
    methods: {
      eth_chainId: () => '0x539',
      heavy: (_params, ctx) => withBudget(ctx, async (deadline) => {
        state.active++
        state.max = Math.max(state.max, state.active)
        await gate
        state.active--
        return deadline ?? null
      }),
    },
    logger: captureLogger().logger,
  })
  const reset = () => {
    state.max = 0
    gate = new Promise<void>((resolve) => { state.open = resolve })
  }
  return { server, state, reset }
}

/** POSTs a payload from a chosen local address (127.0.0.x are all this machine). */
function post(url: string, payload: unknown, localAddress = '127.0.0.1'): Promise<any> {
  const u = new URL(url)
  const body = JSON.stringify(payload)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path: '/', localAddress, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = ''
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve(JSON.parse(text)))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const batchOf = (n: number, method = 'heavy') => Array.from({ length: n }, (_, id) => ({ jsonrpc: '2.0', id, method }))

describe('the work budget of a payload', () => {
  test('a batch runs its heavy entries two at a time under one deadline; light entries answer at once', async () => {
    const { server, state } = gatedServer()
    const { url } = await server.listen()
    try {
      const answer = post(url, [...batchOf(6), { jsonrpc: '2.0', id: 'light', method: 'eth_chainId' }])
      await waitFor(() => state.active === 2)
      state.open!()
      const out = (await answer) as Array<{ id: number | string; result: unknown }>
      assert.equal(state.max, 2)
      assert.equal(out.find((e) => e.id === 'light')?.result, '0x539')
      const deadlines = new Set(out.filter((e) => e.id !== 'light').map((e) => e.result))
      assert.equal(deadlines.size, 1, 'one deadline for the whole batch')
      assert.equal(typeof [...deadlines][0], 'number')
    } finally {
      await server.close()
    }
  })

  test('one client runs at most four heavy entries over all its batches; another client is not held back', async () => {
    const { server, state, reset } = gatedServer()
    const { url } = await server.listen()
    try {
      reset()
      const greedy = [post(url, batchOf(2)), post(url, batchOf(2)), post(url, batchOf(2)), post(url, batchOf(2))]
      await waitFor(() => state.active === 4)
      const other = post(url, batchOf(1), '127.0.0.2')
      await waitFor(() => state.active === 5)
      assert.equal(state.max, 5, 'four from the greedy client, one from the other')
      state.open!()
      await Promise.all([...greedy, other])
    } finally {
      await server.close()
    }
  })
})
