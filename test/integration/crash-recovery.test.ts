/**
 * Crash recovery of a real Catena node (a separate OS process): under continuous load from
 * a client sending signed transfers from several accounts, the node is killed with SIGKILL
 * at random instants, many times over, and restarted on the same datadir with no repair
 * step. After each restart:
 *  - the head is at least the last head the client saw, and every block the client saw is
 *    still there with the same hash (new blocks chain onto the ones already checked);
 *  - every transaction whose receipt the client saw has the very same receipt;
 *  - the head's state is readable and adds up: the balances of every account sum to the
 *    genesis allocations + 2 ETH per block - the burnt base fees (gasUsed * baseFeePerGas);
 *  - each sender's nonce equals the number of its transactions in the chain;
 *  - the chain keeps producing blocks under the next round of load.
 *
 * The kill instants come from a seeded PRNG; the seed is printed, and CRASH_SEED=<n>
 * replays a run (CRASH_CYCLES=<n> changes the number of kills, 12 by default).
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { verifyMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { parseEther, type Hex } from 'viem'
import { mnemonicToAccount, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { makeDatadir, removeDatadir, startNode, waitFor, RpcCallError, type NodeProcess } from '../helpers/node-process.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const DEV_ACCOUNTS = 20
const DEV_BALANCE = parseEther('10000')
const BLOCK_REWARD = parseEther('2')
const DEV_COINBASE = '0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e'
const SENDERS = 8
/** Transactions each sender keeps in flight. */
const WINDOW = 4
/** Upper bound of the random wait, after the first loaded block of a cycle, before the kill. */
const MAX_KILL_DELAY_MS = 1500
/** Most blocks the observer fetches per poll (one batch). */
const OBSERVE_SPAN = 32n
const CYCLES = Number(process.env.CRASH_CYCLES ?? 12)
const SEED = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

interface Receipt {
  transactionHash: Hex
  blockHash: Hex
  blockNumber: Hex
  from: Hex
  status: Hex
  [field: string]: unknown
}

interface Block {
  number: Hex
  hash: Hex
  parentHash: Hex
  gasUsed: Hex
  baseFeePerGas: Hex
  transactions: { from: Hex; hash: Hex }[]
}

/** One JSON-RPC batch over HTTP; throws RpcCallError on the first entry that failed. */
async function batch<T = unknown>(url: string, calls: [string, unknown[]][]): Promise<T[]> {
  if (calls.length === 0) return []
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }))),
  })
  const replies = (await res.json()) as { id: number; result?: T; error?: { code: number; message: string } }[]
  const out: T[] = new Array(calls.length)
  for (const r of replies) {
    if (r.error) throw new RpcCallError(calls[r.id][0], r.error.code, r.error.message)
    out[r.id] = r.result as T
  }
  return out
}

async function batchChunks<T>(url: string, calls: [string, unknown[]][], size = 200): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < calls.length; i += size) out.push(...(await batch<T>(url, calls.slice(i, i + size))))
  return out
}

/** What the client has seen, across all cycles. */
class Observations {
  /** Block hash by height, as the client saw them before kills. */
  readonly hashes = new Map<bigint, Hex>()
  /** Receipts seen in the current cycle (checked after the next restart), by tx hash. */
  cycleReceipts = new Map<Hex, Receipt>()
  receiptsSeen = 0
  head = 0n
}

/** What the verifier has established by scanning the chain block by block. */
class Ledger {
  /** Highest height scanned and its hash. */
  height = 0n
  hash: Hex = '0x'
  burnt = 0n
  readonly minedBySender = new Map<string, bigint>()
  txs = 0
}

/** Signs and sends transfers from each sender as fast as the node takes them; observes blocks. */
class LoadClient {
  killing = false
  readonly errors: string[] = []
  private tasks: Promise<void>[] = []
  sent = 0
  loadedBlocks = 0

  constructor(
    private readonly url: string,
    private readonly senders: PrivateKeyAccount[],
    private readonly recipients: Hex[],
    private readonly rng: () => number,
    private readonly seen: Observations,
  ) {}

  async start(): Promise<void> {
    const nonces = await batch<Hex>(this.url, this.senders.map((s) => ['eth_getTransactionCount', [s.address, 'latest']]))
    this.senders.forEach((sender, i) => {
      const state = { next: BigInt(nonces[i]) }
      for (let slot = 0; slot < WINDOW; slot++) this.tasks.push(this.sendLoop(sender, state))
    })
    this.tasks.push(this.observeLoop())
  }

  /** Waits for every loop to end (they end on the first failed request after a kill). */
  async drain(): Promise<void> {
    await Promise.all(this.tasks)
    this.tasks = []
  }

  private fail(what: string, err: unknown): void {
    if (!this.killing) this.errors.push(`${what}: ${(err as Error).message ?? String(err)}`)
  }

  private async sendLoop(sender: PrivateKeyAccount, state: { next: bigint }): Promise<void> {
    while (!this.killing) {
      const nonce = state.next++
      const raw = await sender.signTransaction({
        chainId: 1337,
        type: 'eip1559',
        nonce: Number(nonce),
        to: this.recipients[Math.floor(this.rng() * this.recipients.length)],
        value: BigInt(1 + Math.floor(this.rng() * 1_000_000)),
        gas: 21_000n,
        maxFeePerGas: 3_000_000_000n,
        maxPriorityFeePerGas: BigInt(Math.floor(this.rng() * 1000)),
      })
      try {
        await batch(this.url, [['eth_sendRawTransaction', [raw]]])
        this.sent++
      } catch (err) {
        this.fail(`send ${sender.address} nonce ${nonce}`, err)
        return
      }
    }
  }

  private async observeLoop(): Promise<void> {
    while (!this.killing) {
      try {
        const head = BigInt((await batch<Hex>(this.url, [['eth_blockNumber', []]]))[0])
        // The newest blocks are the ones a kill puts at risk: when behind, skip to them.
        const from = head - this.seen.head > OBSERVE_SPAN ? head - OBSERVE_SPAN + 1n : this.seen.head + 1n
        const heights: bigint[] = []
        for (let h = from; h <= head; h++) heights.push(h)
        const replies = await batch<any>(this.url, heights.flatMap((h): [string, unknown[]][] => [
          ['eth_getBlockByNumber', [`0x${h.toString(16)}`, false]],
          ['eth_getBlockReceipts', [`0x${h.toString(16)}`]],
        ]))
        heights.forEach((h, i) => {
          const block = replies[2 * i] as { hash: Hex }
          const receipts = replies[2 * i + 1] as Receipt[]
          this.seen.hashes.set(h, block.hash)
          for (const r of receipts) this.seen.cycleReceipts.set(r.transactionHash, r)
          this.seen.receiptsSeen += receipts.length
          if (receipts.length > 0) this.loadedBlocks++
        })
        if (head > this.seen.head) this.seen.head = head
      } catch (err) {
        this.fail('observe', err)
        return
      }
      await delay(5)
    }
  }
}

const datadirPromise = makeDatadir('catena-crash-')
let current: NodeProcess | undefined

after(async () => {
  try {
    if (current && current.exitInfo === undefined) await current.kill()
  } finally {
    await removeDatadir(await datadirPromise)
  }
})

test(`a node killed with SIGKILL under load recovers every time (${CYCLES} kills, seed ${SEED})`, { timeout: 240_000 }, async (t) => {
  t.diagnostic(`crash-recovery seed ${SEED} (replay with CRASH_SEED=${SEED})`)
  console.log(`# crash-recovery seed ${SEED}`)
  // Kill delays have their own stream, so a seed replays them exactly whatever the load did.
  const killRng = prng(SEED)
  const txRng = prng(SEED ^ 0x9e3779b9)
  const datadir = await datadirPromise
  const devKeys = Array.from({ length: DEV_ACCOUNTS }, (_, i) => bytesToHex(mnemonicToAccount(MNEMONIC, { addressIndex: i }).getHdKey().privateKey!) as Hex)
  const everyone = devKeys.map((k) => privateKeyToAccount(k))
  const senders = everyone.slice(0, SENDERS)
  const recipients = everyone.slice(SENDERS).map((a) => a.address)
  const seen = new Observations()
  const ledger = new Ledger()

  /** All the invariants, checked right after a (re)start, before any new load. */
  const verify = async (node: NodeProcess, cycle: number) => {
    const url = node.rpcUrl
    const head = BigInt(await node.rpc<Hex>('eth_blockNumber'))
    assert.ok(head >= seen.head, `cycle ${cycle}: head ${head} is at least the last head the client saw (${seen.head})`)

    // Blocks: the last scanned one is unchanged, and the new ones chain onto it.
    const heights: bigint[] = []
    for (let h = ledger.height; h <= head; h++) heights.push(h)
    const blocks = await batchChunks<Block>(url, heights.map((h) => ['eth_getBlockByNumber', [`0x${h.toString(16)}`, true]]), 100)
    if (ledger.height > 0n) assert.equal(blocks[0].hash, ledger.hash, `cycle ${cycle}: block ${ledger.height} kept its hash`)
    for (let i = 1; i < blocks.length; i++) {
      const b = blocks[i]
      const h = heights[i]
      assert.equal(BigInt(b.number), h)
      assert.equal(b.parentHash, blocks[i - 1].hash, `cycle ${cycle}: block ${h} links to block ${h - 1n}`)
      ledger.burnt += BigInt(b.gasUsed) * BigInt(b.baseFeePerGas)
      for (const tx of b.transactions) {
        const from = tx.from.toLowerCase()
        ledger.minedBySender.set(from, (ledger.minedBySender.get(from) ?? 0n) + 1n)
        ledger.txs++
      }
    }
    ledger.height = head
    ledger.hash = blocks[blocks.length - 1].hash
    for (const [h, hash] of seen.hashes) {
      if (h < heights[0]) continue // already proven by the hash chain of earlier cycles
      assert.equal(blocks[Number(h - heights[0])].hash, hash, `cycle ${cycle}: block ${h} the client saw is still there`)
    }

    // Every receipt the client saw before the kill is served unchanged.
    const hashes = [...seen.cycleReceipts.keys()]
    const receipts = await batchChunks<Receipt | null>(url, hashes.map((h) => ['eth_getTransactionReceipt', [h]]))
    hashes.forEach((h, i) => assert.deepEqual(receipts[i], seen.cycleReceipts.get(h), `cycle ${cycle}: receipt of ${h}`))
    seen.cycleReceipts = new Map()

    // The head state is readable and the books balance.
    const tag = `0x${head.toString(16)}`
    const holders = [...everyone.map((a) => a.address), DEV_COINBASE]
    const balances = await batch<Hex>(url, holders.map((a) => ['eth_getBalance', [a, tag]]))
    const total = balances.reduce((sum, b) => sum + BigInt(b), 0n)
    const expected = BigInt(DEV_ACCOUNTS) * DEV_BALANCE + BLOCK_REWARD * head - ledger.burnt
    assert.equal(total, expected, `cycle ${cycle}: total supply at block ${head}`)
    // The balances come from the trie under the head's stateRoot, not from some cache.
    const headBlock = blocks[blocks.length - 1] as Block & { stateRoot: Hex }
    for (const i of [0, holders.length - 1]) {
      const proof = await node.rpc<{ accountProof: Hex[]; balance: Hex }>('eth_getProof', [holders[i], [], tag])
      const leaf = await verifyMerkleProof(hexToBytes(holders[i] as Hex), proof.accountProof.map((p) => hexToBytes(p)), {
        root: hexToBytes(headBlock.stateRoot),
        useKeyHashing: true,
      })
      // null is a valid proof of absence (the coinbase before its first block).
      const proven = leaf === null ? 0n : bytesToBigInt((RLP.decode(leaf) as Uint8Array[])[1])
      assert.equal(proven, BigInt(balances[i]), `cycle ${cycle}: proven balance of ${holders[i]} under the stateRoot of block ${head}`)
    }
    const nonces = await batch<Hex>(url, everyone.map((a) => ['eth_getTransactionCount', [a.address, tag]]))
    everyone.forEach((a, i) => {
      assert.equal(BigInt(nonces[i]), ledger.minedBySender.get(a.address.toLowerCase()) ?? 0n, `cycle ${cycle}: nonce of ${a.address}`)
    })
    return { head, receiptsChecked: hashes.length }
  }

  /** The node said nothing at warn level or above while starting (no repair, no complaint). */
  const assertQuietStart = (node: NodeProcess, cycle: number) => {
    const loud = node.logLines().filter((l) => typeof l.level === 'number' && l.level >= 40)
    assert.deepEqual(loud, [], `cycle ${cycle}: warnings or errors while starting`)
  }

  for (let cycle = 0; cycle <= CYCLES; cycle++) {
    const node = await startNode({ datadir })
    current = node
    assertQuietStart(node, cycle)
    const checked = await verify(node, cycle)
    if (cycle === CYCLES) break

    const load = new LoadClient(node.rpcUrl, senders, recipients, txRng, seen)
    await load.start()
    // The kill lands at a random instant once this cycle's load is being mined.
    await waitFor(`cycle ${cycle}: a block with transactions`, () => load.loadedBlocks > 0 || load.errors.length > 0, { timeoutMs: 60_000 })
    const killDelay = Math.floor(killRng() * MAX_KILL_DELAY_MS)
    await delay(killDelay)
    load.killing = true
    const exit = await node.kill()
    await load.drain()
    assert.deepEqual(load.errors, [], `cycle ${cycle}: the client saw no error before the kill`)
    assert.equal(exit.signal, 'SIGKILL')
    t.diagnostic(
      `cycle ${cycle}: started at head ${checked.head} (${checked.receiptsChecked} receipts re-checked), ` +
        `killed ${killDelay} ms into load after ${load.sent} sends, client saw head ${seen.head}`,
    )
  }

  // The last restart passed every check; the chain still grows and the node stops cleanly.
  const node = current!
  const before = BigInt(await node.rpc<Hex>('eth_blockNumber'))
  const nonce = await node.rpc<Hex>('eth_getTransactionCount', [senders[0].address, 'latest'])
  const raw = await senders[0].signTransaction({ chainId: 1337, type: 'eip1559', nonce: Number(nonce), to: recipients[0], value: 1n, gas: 21_000n, maxFeePerGas: 3_000_000_000n, maxPriorityFeePerGas: 1n })
  const hash = await node.rpc<Hex>('eth_sendRawTransaction', [raw])
  const receipt = await waitFor('the final transfer', () => node.rpc<Receipt | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined))
  assert.equal(receipt.status, '0x1')
  assert.ok(BigInt(receipt.blockNumber) > before)
  assert.ok(ledger.txs > 0 && seen.receiptsSeen > 0, 'the load reached the chain')
  t.diagnostic(`${CYCLES} kills survived: ${ledger.txs} txs in ${ledger.height} blocks, ${seen.receiptsSeen} receipts observed`)
  assert.deepEqual(await node.stop(), { code: 0, signal: null })
})
