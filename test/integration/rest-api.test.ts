/**
 * The REST API of a real dev node (a separate OS process, networking on, an API key file, a
 * low rate limit): after a few transactions (transfers, a contract creation that logs an
 * ERC-20 Transfer, a reverted call, a queued tx), every route's data is checked against
 * JSON-RPC; pagination walks all blocks; errors have the one shape; every GET response
 * validates against /openapi.json; the rate limit answers 429; admin routes want the key;
 * and POST /v1/admin/shutdown stops the node cleanly.
 *
 * The tests run in order on one node. Requests carry the API key unless a test is about
 * unauthenticated behaviour: key holders are exempt from the rate limit, which the
 * rate-limit test then exhausts on purpose.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createWalletClient, defineChain, getAddress, http, parseEther, type Hex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { makeDatadir, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const RECIPIENT = '0x000000000000000000000000000000000000dEaD'
const API_KEY = 'integration-admin-key-0123456789'
const RATE_LIMIT = 25
const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
const FROM_TOPIC = `0x${'00'.repeat(12)}${'11'.repeat(20)}`
const TO_TOPIC = `0x${'00'.repeat(12)}${'22'.repeat(20)}`

/**
 * Init code that emits Transfer(0x11..11, 0x22..22, 42) and deploys runtime code that always
 * reverts (PUSH1 0 PUSH1 0 REVERT).
 */
const INIT_CODE = `0x602a600052${`7f${TO_TOPIC.slice(2)}`}${`7f${FROM_TOPIC.slice(2)}`}${`7f${TRANSFER_TOPIC.slice(2)}`}60206000a36460006000fd6000526005601bf3` as Hex

const lower = (s: string | null) => (s === null ? null : s.toLowerCase())
const dec = (hex: string) => BigInt(hex).toString()

describe('REST API of a running node', () => {
  let node: NodeProcess
  let datadir: string
  let base: string
  const hashes = { transfers: [] as Hex[], deploy: '0x' as Hex, reverted: '0x' as Hex, queued: '0x' as Hex }
  let contract: string

  /** GET a REST path with the API key (exempt from the rate limit); returns status and JSON. */
  const rest = async (path: string, opts: { key?: string | null; method?: string; body?: unknown } = {}) => {
    const key = opts.key === undefined ? API_KEY : opts.key
    const res = await fetch(`${base}${path}`, {
      method: opts.method ?? 'GET',
      headers: { ...(key ? { 'x-api-key': key } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(30_000),
    })
    return { status: res.status, headers: res.headers, body: (await res.json()) as any }
  }
  const assertError = (r: { status: number; body: any }, status: number, code: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body))
    assert.deepEqual(Object.keys(r.body), ['error'])
    assert.equal(r.body.error.code, code)
    assert.equal(typeof r.body.error.message, 'string')
    assert.ok(r.body.error.message.length > 0)
  }

  before(async () => {
    datadir = await makeDatadir()
    const keyFile = join(datadir, 'api-keys.txt')
    await writeFile(keyFile, `# admin keys\n${API_KEY}\n`, { mode: 0o600 })
    process.env.CATENA_REST_RATE_LIMIT = String(RATE_LIMIT)
    try {
      node = await startNode({ datadir, args: ['--api-key-file', keyFile, '--p2p-port', '0'] })
    } finally {
      delete process.env.CATENA_REST_RATE_LIMIT
    }
    base = node.rpcUrl
    const chain = defineChain({ id: 1337, name: 'Catena dev', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [node.rpcUrl] } } })
    const wallet = (i: number) => createWalletClient({ account: mnemonicToAccount(MNEMONIC, { addressIndex: i }), chain, transport: http(node.rpcUrl) })
    // Automine: each send answers once its block is in.
    hashes.transfers.push(await wallet(0).sendTransaction({ to: RECIPIENT, value: parseEther('1') }))
    hashes.transfers.push(await wallet(1).sendTransaction({ to: RECIPIENT, value: parseEther('2') }))
    hashes.transfers.push(await wallet(0).sendTransaction({ to: RECIPIENT, value: 3n }))
    hashes.deploy = await wallet(2).sendTransaction({ data: INIT_CODE })
    contract = (await node.rpc('eth_getTransactionReceipt', [hashes.deploy])).contractAddress
    hashes.reverted = await wallet(2).sendTransaction({ to: contract as Hex, gas: 100_000n })
    // A nonce gap: the tx waits in the mempool.
    hashes.queued = await wallet(3).sendTransaction({ to: RECIPIENT, value: 1n, nonce: 5 })
  })

  after(async () => {
    if (node && node.exitInfo === undefined) await node.stop()
    if (datadir) await removeDatadir(datadir)
  })

  test('/v1/chain agrees with JSON-RPC', async () => {
    const { status, body } = await rest('/v1/chain')
    assert.equal(status, 200)
    const latest = await node.rpc('eth_getBlockByNumber', ['latest', false])
    assert.equal(body.chainId, Number(await node.rpc('eth_chainId')))
    assert.equal(body.name, 'dev')
    assert.equal(body.engine, 'dev')
    assert.equal(body.genesisHash, node.info.genesisHash)
    assert.deepEqual(body.head, { height: Number(latest.number), hash: latest.hash, timestamp: Number(latest.timestamp) })
    assert.deepEqual(body.finalized, { height: body.head.height, hash: body.head.hash })
    assert.equal(body.head.height, 5, 'five mined txs, one block each')
    assert.equal(body.clientVersion, await node.rpc('web3_clientVersion'))
  })

  test('blocks by height and by hash match eth_getBlockByNumber', async () => {
    const head = Number(await node.rpc('eth_blockNumber'))
    for (let h = 0; h <= head; h++) {
      const rpc = await node.rpc('eth_getBlockByNumber', [`0x${h.toString(16)}`, false])
      const { status, body } = await rest(`/v1/blocks/${h}`)
      assert.equal(status, 200)
      assert.deepEqual(body, (await rest(`/v1/blocks/${rpc.hash}`)).body, 'by hash = by height')
      assert.equal(body.height, h)
      assert.equal(body.hash, rpc.hash)
      assert.equal(body.parentHash, rpc.parentHash)
      assert.equal(body.timestamp, Number(rpc.timestamp))
      assert.equal(body.gasUsed, dec(rpc.gasUsed))
      assert.equal(body.gasLimit, dec(rpc.gasLimit))
      assert.equal(body.baseFeePerGas, dec(rpc.baseFeePerGas))
      assert.equal(body.size, Number(rpc.size))
      assert.equal(lower(body.producer), lower(rpc.miner))
      assert.equal(body.producer, getAddress(rpc.miner), 'EIP-55')
      assert.equal(body.stateRoot, rpc.stateRoot)
      assert.equal(body.txRoot, rpc.transactionsRoot)
      assert.equal(body.receiptsRoot, rpc.receiptsRoot)
      assert.equal(body.confirmations, head - h + 1)
      assert.equal(body.txCount, rpc.transactions.length)
      assert.deepEqual(body.transactions.map((t: any) => t.hash), rpc.transactions)
    }
  })

  test('pagination walks every block once, newest first', async () => {
    const head = (await rest('/v1/chain')).body.head.height
    const seen: number[] = []
    let cursor: string | null = null
    do {
      const r = await rest(`/v1/blocks?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      assert.equal(r.status, 200)
      assert.ok(r.body.items.length <= 2)
      seen.push(...r.body.items.map((b: any) => b.height))
      cursor = r.body.nextCursor
    } while (cursor !== null)
    assert.deepEqual(seen, Array.from({ length: head + 1 }, (_, i) => head - i))
  })

  test('txs by hash match the tx and its receipt, logs included', async () => {
    for (const hash of [...hashes.transfers, hashes.deploy, hashes.reverted]) {
      const tx = await node.rpc('eth_getTransactionByHash', [hash])
      const receipt = await node.rpc('eth_getTransactionReceipt', [hash])
      const { status, body } = await rest(`/v1/txs/${hash}`)
      assert.equal(status, 200)
      assert.equal(body.hash, hash)
      assert.equal(body.blockHeight, Number(tx.blockNumber))
      assert.equal(body.blockHash, tx.blockHash)
      assert.equal(body.index, Number(tx.transactionIndex))
      assert.equal(lower(body.from), lower(tx.from))
      assert.equal(lower(body.to), lower(tx.to))
      assert.equal(lower(body.contractAddress), lower(receipt.contractAddress))
      assert.equal(body.value, dec(tx.value))
      assert.equal(body.nonce, Number(tx.nonce))
      assert.equal(body.gasUsed, dec(receipt.gasUsed))
      assert.equal(body.effectiveGasPrice, dec(receipt.effectiveGasPrice))
      assert.equal(body.status, receipt.status === '0x1' ? 'success' : 'reverted')
      assert.equal(body.input, tx.input)
      assert.equal(body.type, Number(tx.type))
      assert.equal(body.gasLimit, dec(tx.gas))
      assert.equal(body.maxFeePerGas, dec(tx.maxFeePerGas))
      assert.equal(body.maxPriorityFeePerGas, dec(tx.maxPriorityFeePerGas))
      assert.deepEqual(
        body.logs.map((l: any) => ({ address: lower(l.address), topics: l.topics, data: l.data, logIndex: l.logIndex })),
        receipt.logs.map((l: any) => ({ address: lower(l.address), topics: l.topics, data: l.data, logIndex: Number(l.logIndex) })),
      )
    }
    const deploy = (await rest(`/v1/txs/${hashes.deploy}`)).body
    assert.equal(deploy.to, null)
    assert.equal(deploy.contractAddress, getAddress(contract))
    assert.equal(deploy.logs.length, 1)
    assert.deepEqual(deploy.logs[0].decoded, { event: 'Transfer', args: { from: getAddress(`0x${'11'.repeat(20)}`), to: getAddress(`0x${'22'.repeat(20)}`), value: '42' } })
    assert.equal((await rest(`/v1/txs/${hashes.reverted}`)).body.status, 'reverted')
  })

  test('accounts: balance, nonce and code match JSON-RPC; their txs come from the address index', async () => {
    const sender = mnemonicToAccount(MNEMONIC, { addressIndex: 0 }).address
    for (const address of [sender, RECIPIENT, contract]) {
      const { status, body } = await rest(`/v1/accounts/${address}`)
      assert.equal(status, 200)
      assert.equal(body.address, getAddress(address))
      assert.equal(body.balance, dec(await node.rpc('eth_getBalance', [address, 'latest'])))
      assert.equal(body.nonce, Number(await node.rpc('eth_getTransactionCount', [address, 'latest'])))
      const code = await node.rpc('eth_getCode', [address, 'latest'])
      assert.equal(body.codeSize, (code.length - 2) / 2)
      assert.equal(body.isContract, code !== '0x')
    }
    assert.equal((await rest(`/v1/accounts/${contract}`)).body.codeSize, 5)

    const list = async (address: string, limit: number) => {
      const out: any[] = []
      let cursor: string | null = null
      do {
        const r = await rest(`/v1/accounts/${address}/txs?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
        assert.equal(r.status, 200)
        out.push(...r.body.items)
        cursor = r.body.nextCursor
      } while (cursor !== null)
      return out.map((t) => t.hash)
    }
    assert.deepEqual(await list(sender, 1), [hashes.transfers[2], hashes.transfers[0]])
    assert.deepEqual(await list(RECIPIENT, 2), [...hashes.transfers].reverse())
    assert.deepEqual(await list(contract, 5), [hashes.reverted, hashes.deploy], 'the creation and the call')
    assert.deepEqual(await list(mnemonicToAccount(MNEMONIC, { addressIndex: 9 }).address, 5), [])
  })

  test('latest txs, the mempool and pending txs', async () => {
    const latest = (await rest('/v1/txs?limit=100')).body
    assert.deepEqual(latest.items.map((t: any) => t.hash), [hashes.reverted, hashes.deploy, ...[...hashes.transfers].reverse()])
    assert.equal(latest.nextCursor, null)
    const pool = (await rest('/v1/mempool')).body
    assert.equal(pool.queued, 1)
    assert.equal(pool.pending, 0)
    assert.deepEqual(pool.items.map((t: any) => [t.hash, t.nonce, t.status]), [[hashes.queued, 5, 'queued']])
    const pending = (await rest(`/v1/txs/${hashes.queued}`)).body
    assert.equal(pending.status, 'pending')
    assert.equal(pending.blockHeight, null)
    assert.deepEqual(pending, { ...pending, hash: hashes.queued, nonce: 5, value: '1', poolStatus: 'queued' })
  })

  test('analytics: the dev producer, the block series, no alerts', async () => {
    const producers = (await rest('/v1/producers')).body
    assert.equal(producers.kind, 'producer')
    assert.equal(producers.window, 5)
    assert.equal(producers.nakamotoCoefficient, 1)
    const series = (await rest('/v1/analytics/blocks?count=3')).body.items
    assert.deepEqual(series.map((b: any) => b.height), [3, 4, 5])
    assert.ok(series.every((b: any) => typeof b.blockTime === 'number' && b.blockTime >= 0))
    const summary = (await rest('/v1/analytics/summary')).body
    assert.equal(summary.window, 5, 'blocks 1-5: genesis is left out of the statistics')
    assert.equal(summary.finalityLag, 0)
    assert.deepEqual(summary.reorgs, [])
    assert.deepEqual((await rest('/v1/alerts')).body, { items: [] })
  })

  test('errors have the one shape: 404 and 400', async () => {
    assertError(await rest('/v1/blocks/12345'), 404, 'NOT_FOUND')
    assertError(await rest(`/v1/txs/0x${'00'.repeat(32)}`), 404, 'NOT_FOUND')
    assertError(await rest('/v1/nope'), 404, 'NOT_FOUND')
    assertError(await rest('/v1/blocks/latest'), 400, 'BAD_REQUEST')
    assertError(await rest('/v1/accounts/0xnothex'), 400, 'BAD_REQUEST')
    assertError(await rest('/v1/blocks?limit=500'), 400, 'BAD_REQUEST')
    assertError(await rest('/v1/blocks?cursor=AAAA'), 400, 'BAD_REQUEST')
  })

  test('every GET response validates against /openapi.json', async () => {
    const res = await fetch(`${base}/openapi.json`)
    assert.equal(res.status, 200)
    const spec = (await res.json()) as any
    const documented = ['/v1/chain', '/v1/blocks', '/v1/blocks/{id}', '/v1/txs', '/v1/txs/{hash}', '/v1/accounts/{address}', '/v1/accounts/{address}/txs', '/v1/producers', '/v1/mempool', '/v1/peers', '/v1/analytics/blocks', '/v1/analytics/summary', '/v1/alerts']
    for (const p of documented) assert.ok(spec.paths[p]?.get, `${p} is documented`)
    assert.ok(spec.paths['/v1/admin/peers/{id}/ban']?.post && spec.paths['/v1/admin/peers/{id}/ban']?.delete && spec.paths['/v1/admin/shutdown']?.post)
    assert.equal(spec.paths['/'], undefined)
    assert.equal((await fetch(`${base}/docs/`)).status, 200, 'Swagger UI')

    const samples: Record<string, string[]> = { id: ['0', '4'], hash: [hashes.deploy, hashes.queued], address: [RECIPIENT, contract] }
    const ajv = new Ajv({ strict: false, allErrors: true })
    for (const [path, ops] of Object.entries<any>(spec.paths)) {
      if (!path.startsWith('/v1/') || !ops.get) continue
      if (ops.get.tags?.includes('poh')) {
        // PoH chains only (checked on one in poh-rest.test.ts): here the documented 404.
        const r = await rest(path.replace(/\{[^}]+\}/g, '1'))
        assertError(r, 404, 'NOT_FOUND')
        assert.ok(ajv.compile(ops.get.responses['4XX'].content['application/json'].schema)(r.body), `${path}: the error shape`)
        continue
      }
      const param = /\{([^}]+)\}/.exec(path)?.[1]
      const urls = param ? (samples[param] ?? []).map((v) => path.replace(`{${param}}`, v)) : [path]
      assert.ok(urls.length > 0, `samples for ${path}`)
      for (const url of urls) {
        const r = await rest(url)
        const schema = ops.get.responses[String(r.status)]?.content?.['application/json']?.schema
        assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`)
        assert.ok(schema, `${path} documents its 200 response`)
        const validate = ajv.compile(schema)
        assert.ok(validate(r.body), `${url}: ${ajv.errorsText(validate.errors)}`)
      }
    }
  })

  test('admin routes: 401 without the key, 200 with it', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const path = `/v1/admin/peers/${peer}/ban`
    const denied = await rest(path, { method: 'POST', key: null })
    assertError(denied, 401, 'UNAUTHORIZED')
    assert.match(denied.headers.get('www-authenticate') ?? '', /^Bearer/)
    assertError(await rest(path, { method: 'POST', key: 'not-the-key-0123456789' }), 401, 'UNAUTHORIZED')
    const banned = await rest(path, { method: 'POST', body: { reason: 'integration test' } })
    assert.equal(banned.status, 200, JSON.stringify(banned.body))
    assert.equal(banned.body.id, peer)
    assert.equal(banned.body.reason, 'integration test')
    assert.ok(banned.body.until > Date.now())
    assert.deepEqual((await rest('/v1/peers')).body.banned.map((b: any) => b.id), [peer])
    const lifted = await rest(path, { method: 'DELETE' })
    assert.equal(lifted.status, 200)
    assert.equal(lifted.body.wasBanned, true)
    assert.deepEqual((await rest('/v1/peers')).body.banned, [])
  })

  test('the rate limit answers 429 per client with Retry-After', async () => {
    let limited: Awaited<ReturnType<typeof rest>> | undefined
    for (let i = 0; i <= RATE_LIMIT + 1 && !limited; i++) {
      const r = await rest('/v1/chain', { key: null })
      if (r.status === 429) limited = r
      else assert.equal(r.status, 200)
    }
    assert.ok(limited, `no 429 within ${RATE_LIMIT + 2} requests`)
    assertError(limited, 429, 'RATE_LIMITED')
    assert.ok(Number(limited.headers.get('retry-after')) > 0)
    assert.equal((await rest('/v1/chain')).status, 200, 'a key holder is not limited')
    assert.equal(Number(await node.rpc('eth_chainId')), 1337, 'JSON-RPC is not limited')
  })

  test('POST /v1/admin/shutdown stops the node cleanly', async () => {
    const r = await rest('/v1/admin/shutdown', { method: 'POST' })
    assert.equal(r.status, 202)
    assert.equal(r.body.stopping, true)
    const exit = await node.exited
    assert.deepEqual(exit, { code: 0, signal: null })
    await waitFor('the shutdown log line', () => node.logLines().some((l) => l.msg === 'shutting down' && l.signal === 'admin API'))
  })
})
