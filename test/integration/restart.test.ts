/**
 * Restarting a real Catena node (a separate OS process) on the same datadir: after a clean
 * SIGTERM stop the chain comes back exactly as it was (head, blocks, balances, nonces,
 * code, storage, receipts, logs) and keeps growing on top. A datadir refuses another chain
 * spec and a second node while the first one runs, each with a clear error.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createWalletClient,
  defineChain,
  encodeAbiParameters,
  encodeFunctionData,
  http,
  keccak256,
  parseEther,
  toHex,
  type Address,
  type Chain,
  type Hash,
  type Hex,
} from 'viem'
import { mnemonicToAccount, type HDAccount } from 'viem/accounts'
import { chainSpecToJSON, loadChainSpec } from '../../src/chain/spec/index.ts'
import { NodeStartError, makeDatadir, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { fixtureContract } from '../helpers/solc.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const DEV_COINBASE = '0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e'

interface Receipt {
  status: Hex
  blockNumber: Hex
  blockHash: Hash
  contractAddress: Address | null
  logs: unknown[]
}

/** Everything the tests compare across a restart, read through JSON-RPC. */
interface ChainView {
  head: { number: Hex; hash: Hash }
  blocks: unknown[]
  accounts: Record<string, { balance: Hex; nonce: Hex; code: Hex }>
  storage: Record<string, Hex>
  receipts: Record<string, unknown>
  logs: unknown[]
  calls: Hex[]
}

describe('restarting a node on the same datadir', () => {
  let datadir: string
  let specDir: string
  const running = new Set<NodeProcess>()
  const accounts: HDAccount[] = [0, 1, 2].map((i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }))
  const Token = fixtureContract('Token')
  const Registry = fixtureContract('Registry')
  const txs: Hash[] = []
  let token: Address
  let registry: Address
  let beforeStop: ChainView
  let devGenesis: Hash
  /** The head when the last node on `datadir` stopped. */
  let lastHead: { number: Hex; hash: Hash }

  const start = async (opts: Parameters<typeof startNode>[0] = {}) => {
    const node = await startNode({ datadir, ...opts })
    running.add(node)
    return node
  }
  const stop = async (node: NodeProcess) => {
    const exit = await node.stop()
    running.delete(node)
    return exit
  }

  before(async () => {
    datadir = await makeDatadir('catena-restart-')
    specDir = await mkdtemp(join(tmpdir(), 'catena-spec-'))
  })

  after(async () => {
    try {
      for (const node of running) await node.kill()
    } finally {
      await removeDatadir(datadir)
      await rm(specDir, { recursive: true, force: true })
    }
  })

  const walletFor = (node: NodeProcess, account: HDAccount) => {
    const chain: Chain = defineChain({
      id: 1337,
      name: 'Catena dev',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [node.rpcUrl] } },
    })
    return createWalletClient({ chain, account, transport: http(node.rpcUrl), cacheTime: 0, pollingInterval: 25 })
  }

  const receiptOf = (node: NodeProcess, hash: Hash) =>
    waitFor(`receipt of ${hash}`, () => node.rpc<Receipt | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined))

  const keySlot = (key: Hex) => keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [key, 0n]))
  const balanceSlot = (owner: Address) => keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [owner, 3n]))

  /** Reads the whole observable chain: every block, the accounts, slots, receipts and logs. */
  const view = async (node: NodeProcess): Promise<ChainView> => {
    const head = await node.rpc<{ number: Hex; hash: Hash }>('eth_getBlockByNumber', ['latest', false])
    const blocks: unknown[] = []
    for (let h = 0n; h <= BigInt(head.number); h++) blocks.push(await node.rpc('eth_getBlockByNumber', [toHex(h), true]))
    const accountsView: ChainView['accounts'] = {}
    for (const address of [...accounts.map((a) => a.address), DEV_COINBASE, token, registry]) {
      accountsView[address] = {
        balance: await node.rpc('eth_getBalance', [address, head.number]),
        nonce: await node.rpc('eth_getTransactionCount', [address, head.number]),
        code: await node.rpc('eth_getCode', [address, head.number]),
      }
    }
    const slots: [Address, Hex][] = [
      [token, toHex(2, { size: 32 })], // totalSupply
      [token, balanceSlot(accounts[0].address)],
      [token, balanceSlot(accounts[1].address)],
      [registry, keySlot(keccak256(toHex('answer')))],
      [registry, toHex(1, { size: 32 })], // count
    ]
    const storage: ChainView['storage'] = {}
    // Slots go as quantities ("0x2"); padded 32-byte slots are covered in viem-contract.test.ts.
    for (const [address, slot] of slots) storage[`${address}/${slot}`] = await node.rpc('eth_getStorageAt', [address, toHex(BigInt(slot)), head.number])
    const receipts: ChainView['receipts'] = {}
    for (const hash of txs) receipts[hash] = await node.rpc('eth_getTransactionReceipt', [hash])
    const logs = await node.rpc<unknown[]>('eth_getLogs', [{ fromBlock: '0x0', toBlock: head.number }])
    const calls = [
      await node.rpc<Hex>('eth_call', [{ to: token, data: encodeFunctionData({ abi: Token.abi, functionName: 'balanceOf', args: [accounts[1].address] }) }, head.number]),
      await node.rpc<Hex>('eth_call', [{ to: registry, data: encodeFunctionData({ abi: Registry.abi, functionName: 'count' }) }, head.number]),
    ]
    return { head, blocks, accounts: accountsView, storage, receipts, logs, calls }
  }

  test('after SIGTERM the same chain comes back and keeps growing', async () => {
    const node = await start()
    const [alice, bob, carol] = accounts.map((a) => walletFor(node, a))
    const send = async (p: Promise<Hash>) => {
      const hash = await p
      txs.push(hash)
      const r = await receiptOf(node, hash)
      assert.equal(r.status, '0x1')
      return r
    }
    await send(alice.sendTransaction({ to: accounts[1].address, value: parseEther('1') }))
    await send(bob.sendTransaction({ to: accounts[2].address, value: parseEther('0.5') }))
    token = (await send(alice.deployContract({ abi: Token.abi, bytecode: Token.bytecode, args: ['Restart', 'RST', 10n ** 24n] }))).contractAddress!
    registry = (await send(carol.deployContract({ abi: Registry.abi, bytecode: Registry.bytecode }))).contractAddress!
    await send(alice.writeContract({ address: token, abi: Token.abi, functionName: 'transfer', args: [accounts[1].address, 12345n] }))
    await send(carol.writeContract({ address: registry, abi: Registry.abi, functionName: 'set', args: [keccak256(toHex('answer')), 42n] }))
    await send(carol.sendTransaction({ to: accounts[0].address, value: 1n }))

    beforeStop = await view(node)
    assert.equal(beforeStop.logs.length, 3, 'mint, transfer and ValueSet logs')
    assert.notEqual(beforeStop.accounts[token].code, '0x')
    assert.equal(BigInt(beforeStop.storage[`${registry}/${keySlot(keccak256(toHex('answer')))}`]), 42n)

    const exit = await stop(node)
    assert.deepEqual(exit, { code: 0, signal: null }, `clean exit\n${node.output().slice(-2000)}`)
    await assert.rejects(access(join(datadir, 'node.json')), { code: 'ENOENT' }, 'node.json is removed on a clean stop')

    const again = await start()
    assert.equal(again.info.genesisHash, node.info.genesisHash)
    assert.deepEqual(await view(again), beforeStop)

    // The chain continues on top of the old head.
    const next = await receiptOf(again, await walletFor(again, accounts[1]).writeContract({
      address: token, abi: Token.abi, functionName: 'transfer', args: [accounts[2].address, 5n],
    }))
    assert.equal(next.status, '0x1')
    assert.equal(BigInt(next.blockNumber), BigInt(beforeStop.head.number) + 1n)
    const block = await again.rpc<{ parentHash: Hash }>('eth_getBlockByHash', [next.blockHash, false])
    assert.equal(block.parentHash, beforeStop.head.hash)
    assert.equal(next.logs.length, 1)
    // Nonces continued from the restored state, not from zero.
    assert.equal(await again.rpc('eth_getTransactionCount', [accounts[1].address, 'latest']), toHex(BigInt(beforeStop.accounts[accounts[1].address].nonce) + 1n))
    devGenesis = again.info.genesisHash as Hash
    lastHead = await headOf(again)
    assert.deepEqual(await stop(again), { code: 0, signal: null })
  })

  test('a datadir refuses a chain spec with another genesis', async () => {
    // A valid custom genesis file: the dev preset with one more funded account.
    const json = chainSpecToJSON(loadChainSpec('dev'))
    json.name = 'custom'
    json.genesis.alloc['0x00000000000000000000000000000000000c0ffe'] = { balance: '1' }
    const specPath = join(specDir, 'custom-genesis.json')
    await writeFile(specPath, JSON.stringify(json, null, 2))

    // It loads and runs on a fresh datadir ...
    const freshDir = await makeDatadir('catena-custom-')
    try {
      const custom = await start({ datadir: freshDir, chain: specPath })
      assert.equal(await custom.rpc('eth_getBalance', ['0x00000000000000000000000000000000000c0ffe', 'latest']), '0x1')
      assert.notEqual(custom.info.genesisHash, devGenesis)
      assert.equal(custom.info.genesisHash, (await custom.rpc<{ hash: Hash }>('eth_getBlockByNumber', ['0x0', false])).hash)
      await stop(custom)
    } finally {
      await removeDatadir(freshDir)
    }

    // ... but not on the dev chain's datadir.
    await assert.rejects(start({ chain: specPath }), (err: unknown) => {
      assert.ok(err instanceof NodeStartError, String(err))
      assert.equal(err.exit?.code, 1)
      assert.match(err.output, /datadir holds a different chain \(genesis 0x[0-9a-f]{64}, this chain spec's genesis is 0x[0-9a-f]{64}\); use another --datadir/)
      return true
    })
    // The refused start changed nothing.
    const node = await start()
    assert.equal(node.info.genesisHash, devGenesis)
    assert.deepEqual(await headOf(node), lastHead)
    await stop(node)
  })

  test('a datadir refuses a chain spec that differs only in chain id', async () => {
    const json = chainSpecToJSON(loadChainSpec('dev'))
    json.chainId = 4242
    const specPath = join(specDir, 'other-chain-id.json')
    await writeFile(specPath, JSON.stringify(json, null, 2))
    let started: NodeProcess | undefined
    try {
      await assert.rejects(
        start({ chain: specPath }).then((n) => { started = n }),
        (err: unknown) => err instanceof NodeStartError && /different chain|holds chain id 1337 but this chain spec says 4242/.test(err.output),
      )
    } finally {
      if (started) await stop(started)
    }
  })

  test('a second node on the same datadir fails clearly while the first keeps running', async () => {
    const first = await start()
    const head = await first.rpc<Hex>('eth_blockNumber')
    await assert.rejects(start(), (err: unknown) => {
      assert.ok(err instanceof NodeStartError, String(err))
      assert.equal(err.exit?.code, 1)
      assert.match(err.output, /error: cannot open database at .*chaindata: it is in use by another process/)
      return true
    })
    // The first node did not notice: it serves, mines, and node.json still names it.
    assert.equal(first.exitInfo, undefined)
    const hash = await walletFor(first, accounts[2]).sendTransaction({ to: accounts[0].address, value: 1n })
    const r = await receiptOf(first, hash)
    assert.equal(BigInt(r.blockNumber), BigInt(head) + 1n)
    const info = JSON.parse(await readFile(join(datadir, 'node.json'), 'utf8')) as { pid: number }
    assert.equal(info.pid, first.pid)
    assert.deepEqual(await stop(first), { code: 0, signal: null })
  })
})

async function headOf(node: NodeProcess): Promise<{ number: Hex; hash: Hash }> {
  const b = await node.rpc<{ number: Hex; hash: Hash }>('eth_getBlockByNumber', ['latest', false])
  return { number: b.number, hash: b.hash }
}
