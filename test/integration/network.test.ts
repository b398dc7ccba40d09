/**
 * Catena nodes as separate OS processes over libp2p on 127.0.0.1: a producing dev node and
 * followers. Txs sent to a follower reach the producer by gossip; blocks reach followers by
 * gossip; a late joiner syncs from height 0 by range; all nodes agree block by block.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { makeDatadir, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'

type Hex = `0x${string}`
const common = makeCommon(1337n)
const nodes: NodeProcess[] = []
const dirs: string[] = []

after(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => n.kill())))
  await Promise.all(dirs.map(removeDatadir))
})

async function start(args: string[]): Promise<NodeProcess> {
  const datadir = await makeDatadir()
  dirs.push(datadir)
  const node = await startNode({ datadir, args: ['--p2p-port', '0', ...args] })
  nodes.push(node)
  return node
}

const height = async (n: NodeProcess) => BigInt(await n.rpc<Hex>('eth_blockNumber'))
const hashAt = async (n: NodeProcess, h: bigint) => (await n.rpc<{ hash: Hex } | null>('eth_getBlockByNumber', ['0x' + h.toString(16), false]))?.hash

async function assertSameChain(a: NodeProcess, b: NodeProcess, upTo: bigint) {
  for (let h = 0n; h <= upTo; h++) assert.equal(await hashAt(b, h), await hashAt(a, h), `block ${h}`)
}

function transfer(nonce: bigint) {
  return bytesToHex(
    createFeeMarket1559Tx(
      { nonce, to: '0x000000000000000000000000000000000000beef', value: 1000n, gasLimit: 21000n, maxFeePerGas: 10n ** 11n, maxPriorityFeePerGas: 10n ** 9n, chainId: 1337n },
      { common },
    )
      .sign(KEYS[3])
      .serialize(),
  )
}

describe('a network of Catena processes', () => {
  test('txs gossip to the producer, blocks gossip back, and a late joiner syncs from height 0', async () => {
    const producer = await start([])
    const boot = producer.info.p2p![0]
    assert.match(boot, /\/p2p\//)
    const follower = await start(['--automine', 'false', '--bootnodes', boot])
    await waitFor('the follower to see the producer', async () => BigInt(await follower.rpc<Hex>('net_peerCount')) >= 1n)

    // A tx sent to the follower (which never seals) is mined by the producer.
    const hash = await follower.rpc<Hex>('eth_sendRawTransaction', [transfer(0n)])
    const receipt = await waitFor('the receipt on the follower', () => follower.rpc<{ blockNumber: Hex; status: Hex } | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), { timeoutMs: 60_000 }).catch((err) => {
      // The nodes' own logs say where the tx stopped.
      const tail = (n: NodeProcess) => n.output().trimEnd().split('\n').filter((l) => !l.includes('block imported')).slice(-25).join('\n')
      throw new Error(`${(err as Error).message}\n--- follower ---\n${tail(follower)}\n--- producer ---\n${tail(producer)}`)
    })
    assert.equal(receipt.status, '0x1')
    assert.deepEqual(await producer.rpc('eth_getTransactionReceipt', [hash]), receipt)

    // Many blocks at once on the producer: the follower follows by gossip (and range sync for gaps).
    await producer.rpc('hardhat_mine', ['0x64'])
    for (let i = 1n; i <= 5n; i++) await producer.rpc('eth_sendRawTransaction', [transfer(i)])
    const target = await height(producer)
    await waitFor('the follower to reach the producer head', async () => (await height(follower)) >= target, { timeoutMs: 60_000 })
    await assertSameChain(producer, follower, target)

    // A node that joins late syncs the whole chain from height 0, then follows new blocks.
    const late = await start(['--automine', 'false', '--bootnodes', boot])
    await waitFor('the late joiner to sync', async () => (await height(late)) >= target, { timeoutMs: 60_000 })
    await assertSameChain(producer, late, target)
    const balance = await late.rpc<Hex>('eth_getBalance', ['0x000000000000000000000000000000000000beef', 'latest'])
    assert.equal(BigInt(balance), 6000n)
    await producer.rpc('evm_mine', [])
    await waitFor('the late joiner to follow a new block', async () => (await height(late)) > target)
  })

  test('a node of another chain is refused at the handshake', async () => {
    const producer = nodes[0]
    const { writeFile } = await import('node:fs/promises')
    const { join } = await import('node:path')
    const { chainSpecToJSON, loadChainSpec } = await import('../../src/chain/spec/index.ts')
    const dir = await makeDatadir()
    dirs.push(dir)
    const json = chainSpecToJSON(loadChainSpec('dev'))
    json.chainId = 4242
    json.genesis.timestamp = 1700000001
    const spec = join(dir, 'other.json')
    await writeFile(spec, JSON.stringify(json))
    const stranger = await startNode({ datadir: join(dir, 'data'), chain: spec, args: ['--p2p-port', '0', '--bootnodes', producer.info.p2p![0]] })
    nodes.push(stranger)
    await waitFor('the handshake to be refused', () => stranger.output().includes('on another chain'), { timeoutMs: 20_000 })
    assert.equal(BigInt(await stranger.rpc<Hex>('net_peerCount')), 0n)
  })
})
