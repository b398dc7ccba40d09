// Real Ethereum client libraries talk to the server: viem over HTTP (single and batched)
// and over WebSocket with eth_subscribe, and ethers over HTTP.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicClient, http, webSocket } from 'viem'
import { JsonRpcProvider } from 'ethers'
import { createRpcServer, SubscriptionHub, type RpcServer } from '../../../src/api/rpc/index.ts'
import { captureLogger, waitFor } from './rpc-helpers.ts'

describe('viem and ethers against the JSON-RPC server', () => {
  const hub = new SubscriptionHub()
  let server: RpcServer
  let url: string
  let wsUrl: string
  before(async () => {
    server = createRpcServer({
      methods: {
        eth_chainId: () => '0x539',
        eth_blockNumber: () => '0x2a',
        net_version: () => '1337',
      },
      hub,
      logger: captureLogger().logger,
    })
    ;({ url, wsUrl } = await server.listen())
  })
  after(() => server.close())

  test('viem over HTTP, single and batched', async () => {
    const client = createPublicClient({ transport: http(url) })
    assert.equal(await client.getChainId(), 1337)
    const batched = createPublicClient({ transport: http(url, { batch: true }) })
    assert.deepEqual(await Promise.all([batched.getChainId(), batched.getBlockNumber()]), [1337, 42n])
  })

  test('ethers over HTTP', async () => {
    const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true })
    assert.equal(await provider.getBlockNumber(), 42)
    provider.destroy()
  })

  test('viem over WebSocket: requests and a newHeads subscription', async () => {
    const client = createPublicClient({ transport: webSocket(wsUrl) })
    assert.equal(await client.getChainId(), 1337)
    const seen: bigint[] = []
    let resolve!: () => void
    const done = new Promise<void>((r) => { resolve = r })
    const unwatch = client.watchBlockNumber({
      emitOnBegin: false,
      onBlockNumber: (n) => { seen.push(n); if (n === 44n) resolve() },
      onError: (e) => assert.fail(e),
    })
    // Publish until the subscription is live (it is registered asynchronously by viem).
    await waitFor(() => hub.count() > 0)
    hub.publishNewHead({ number: '0x2b', hash: '0x' + '01'.repeat(32) })
    hub.publishNewHead({ number: '0x2c', hash: '0x' + '02'.repeat(32) })
    await done
    unwatch()
    assert.deepEqual(seen, [43n, 44n])
    const transport = await client.transport.getRpcClient()
    transport.close()
  })
})
