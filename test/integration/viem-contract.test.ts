/**
 * A real viem client against a real Catena dev node (a separate OS process): deploys an
 * ERC-20 compiled from Solidity source, calls it, reads its events with eth_getLogs and
 * over WebSocket subscriptions, and checks balances, gas, revert reasons, state proofs,
 * fee history, block shapes and tags, and the dev mining methods.
 *
 * The tests in this file run in order on one chain: later ones use the token deployed by
 * the first, and the mining/time tests come last because they move the chain's clock.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeEventLog,
  defineChain,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  hexToBigInt,
  hexToBytes,
  http,
  keccak256,
  pad,
  parseAbiItem,
  parseEther,
  toHex,
  webSocket,
  type Address,
  type Hash,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
  type Chain,
  type Transport,
  type WebSocketTransport,
} from 'viem'
import { mnemonicToAccount, type HDAccount } from 'viem/accounts'
import { verifyMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt } from '@ethereumjs/util'
import { RpcCallError, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { fixtureContract } from '../helpers/solc.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const BLOCK_REWARD = parseEther('2')
const TOKEN_SUPPLY = 1_000_000n * 10n ** 18n
const TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)')

interface TransferLog {
  args: { from: Address; to: Address; value: bigint }
  transactionHash: Hash
  blockHash: Hash
  logIndex: number
}

describe('viem against a Catena dev node', () => {
  let node: NodeProcess
  let chain: Chain
  let pub: PublicClient<Transport, Chain>
  let ws: PublicClient<WebSocketTransport, Chain>
  const wallets: WalletClient<Transport, Chain, HDAccount>[] = []
  const accounts: HDAccount[] = []
  let token: Address
  let tokenDeployBlock: bigint
  let registry: Address

  const Token = fixtureContract('Token')
  const Registry = fixtureContract('Registry')

  before(async () => {
    node = await startNode()
    chain = defineChain({
      id: 1337,
      name: 'Catena dev',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [node.rpcUrl], webSocket: [node.wsUrl] } },
    })
    // cacheTime 0: viem otherwise serves getBlockNumber from a cache, and tests read the head
    // right after a receipt.
    pub = createPublicClient({ chain, transport: http(node.rpcUrl), pollingInterval: 25, cacheTime: 0 })
    ws = createPublicClient({ chain, transport: webSocket(node.wsUrl, { reconnect: false, keepAlive: false }), pollingInterval: 25, cacheTime: 0 })
    for (let i = 0; i < 4; i++) {
      const account = mnemonicToAccount(MNEMONIC, { addressIndex: i })
      accounts.push(account)
      wallets.push(createWalletClient({ chain, account, transport: http(node.rpcUrl), pollingInterval: 25, cacheTime: 0 }))
    }
  })

  after(async () => {
    try {
      if (ws) await closeWebSocket(ws).catch(() => undefined)
      if (node) await node.stop()
    } finally {
      if (node) await removeDatadir(node.datadir)
    }
  })

  const mined = (hash: Hash): Promise<TransactionReceipt> => pub.waitForTransactionReceipt({ hash, pollingInterval: 25, timeout: 30_000 })

  test('the node is the chain viem was told about', async () => {
    assert.equal(await pub.getChainId(), 1337)
    assert.equal(await ws.getChainId(), 1337)
    const genesis = await pub.getBlock({ blockNumber: 0n })
    assert.equal(genesis.hash, node.info.genesisHash)
    for (const a of accounts) assert.equal(await pub.getBalance({ address: a.address, blockNumber: 0n }), parseEther('10000'))
  })

  test('deploys the token compiled from source and reads it back', async () => {
    const [alice] = accounts
    const hash = await wallets[0].deployContract({ abi: Token.abi, bytecode: Token.bytecode, args: ['Catena Token', 'CAT', TOKEN_SUPPLY] })
    const receipt = await mined(hash)
    assert.equal(receipt.status, 'success')
    assert.ok(receipt.contractAddress, 'receipt names the new contract')
    token = receipt.contractAddress
    tokenDeployBlock = receipt.blockNumber
    assert.equal(await pub.getCode({ address: token }), Token.deployedBytecode)

    const read = (functionName: string, args: unknown[] = []) =>
      pub.readContract({ address: token, abi: Token.abi, functionName, args } as never) as Promise<unknown>
    assert.equal(await read('name'), 'Catena Token')
    assert.equal(await read('symbol'), 'CAT')
    assert.equal(await read('decimals'), 18)
    assert.equal(await read('totalSupply'), TOKEN_SUPPLY)
    assert.equal(await read('balanceOf', [alice.address]), TOKEN_SUPPLY)

    // The constructor's mint is logged as a Transfer from the zero address.
    assert.equal(receipt.logs.length, 1)
    const mint = decodeEventLog({ abi: Token.abi, ...receipt.logs[0] })
    assert.equal(mint.eventName, 'Transfer')
    assert.deepEqual(mint.args, { from: '0x0000000000000000000000000000000000000000', to: alice.address, value: TOKEN_SUPPLY })

    const r2 = await mined(await wallets[0].deployContract({ abi: Registry.abi, bytecode: Registry.bytecode }))
    assert.equal(r2.status, 'success')
    registry = r2.contractAddress!
  })

  test('writeContract moves tokens and readContract sees it', async () => {
    const [alice, bob] = accounts
    const hash = await wallets[0].writeContract({ address: token, abi: Token.abi, functionName: 'transfer', args: [bob.address, 1000n] })
    const receipt = await mined(hash)
    assert.equal(receipt.status, 'success')
    const balanceOf = (who: Address) => pub.readContract({ address: token, abi: Token.abi, functionName: 'balanceOf', args: [who] })
    assert.equal(await balanceOf(bob.address), 1000n)
    assert.equal(await balanceOf(alice.address), TOKEN_SUPPLY - 1000n)
    // Reads at an earlier block see the earlier state.
    assert.equal(await pub.readContract({ address: token, abi: Token.abi, functionName: 'balanceOf', args: [bob.address], blockNumber: receipt.blockNumber - 1n }), 0n)
  })

  test('eth_getLogs filters Transfer events by indexed topics and block ranges', async () => {
    const [alice, bob, carol, dave] = accounts
    const transfer = async (from: number, to: Address, value: bigint) =>
      mined(await wallets[from].writeContract({ address: token, abi: Token.abi, functionName: 'transfer', args: [to, value] }))
    const r1 = await transfer(0, carol.address, 300n)
    const r2 = await transfer(1, carol.address, 200n)
    const r3 = await transfer(0, dave.address, 50n)
    for (const r of [r1, r2, r3]) assert.equal(r.status, 'success')

    // The ABI comes from solc at run time, so viem cannot type the decoded args: cast them.
    const transfers = async (params: Record<string, unknown>) =>
      (await pub.getContractEvents({ address: token, abi: Token.abi, eventName: 'Transfer', ...params })) as unknown as TransferLog[]
    const all = await transfers({ fromBlock: tokenDeployBlock, toBlock: 'latest' })
    assert.deepEqual(
      all.map((l) => [l.args.from, l.args.to, l.args.value]),
      [
        ['0x0000000000000000000000000000000000000000', alice.address, TOKEN_SUPPLY],
        [alice.address, bob.address, 1000n],
        [alice.address, carol.address, 300n],
        [bob.address, carol.address, 200n],
        [alice.address, dave.address, 50n],
      ],
    )

    const toCarol = await transfers({ args: { to: carol.address }, fromBlock: tokenDeployBlock })
    assert.deepEqual(toCarol.map((l) => l.transactionHash), [r1.transactionHash, r2.transactionHash])

    const fromAlice = await transfers({ args: { from: alice.address }, fromBlock: tokenDeployBlock })
    assert.deepEqual(fromAlice.map((l) => l.args.to), [bob.address, carol.address, dave.address])

    // OR within a topic position.
    const toCarolOrDave = await pub.getLogs({
      address: token,
      event: TRANSFER,
      args: { to: [carol.address, dave.address] },
      fromBlock: tokenDeployBlock,
    })
    assert.deepEqual(toCarolOrDave.map((l) => l.args.value), [300n, 200n, 50n])

    // A block range holding only the second transfer to carol.
    const ranged = await transfers({ fromBlock: r2.blockNumber, toBlock: r2.blockNumber })
    assert.equal(ranged.length, 1)
    assert.equal(ranged[0].transactionHash, r2.transactionHash)
    assert.equal(ranged[0].blockHash, r2.blockHash)
    assert.equal(ranged[0].logIndex, r2.logs[0].logIndex)

    // The same through the raw method: topics by position, and a blockHash filter.
    const transferTopic = keccak256(toHex('Transfer(address,address,uint256)'))
    const raw = await node.rpc<{ transactionHash: Hash; topics: Hex[]; data: Hex }[]>('eth_getLogs', [
      { address: token, fromBlock: toHex(tokenDeployBlock), toBlock: 'latest', topics: [transferTopic, null, pad(carol.address)] },
    ])
    assert.deepEqual(raw.map((l) => l.transactionHash), [r1.transactionHash, r2.transactionHash])
    assert.equal(raw[1].topics[1], pad(bob.address.toLowerCase() as Hex))
    assert.equal(hexToBigInt(raw[1].data), 200n)
    const byHash = await node.rpc<{ transactionHash: Hash }[]>('eth_getLogs', [{ blockHash: r3.blockHash }])
    assert.deepEqual(byHash.map((l) => l.transactionHash), [r3.transactionHash])
    // eth_getBlockReceipts takes a number, a hash or an EIP-1898 object, as geth does.
    const receiptsByNumber = await node.rpc<{ transactionHash: Hash }[]>('eth_getBlockReceipts', [toHex(r3.blockNumber)])
    const receiptsByHash = await node.rpc<{ transactionHash: Hash }[]>('eth_getBlockReceipts', [r3.blockHash])
    const receiptsBy1898 = await node.rpc<{ transactionHash: Hash }[]>('eth_getBlockReceipts', [{ blockHash: r3.blockHash }])
    assert.ok(receiptsByNumber.some((r) => r.transactionHash === r3.transactionHash))
    assert.deepEqual(receiptsByHash, receiptsByNumber)
    assert.deepEqual(receiptsBy1898, receiptsByNumber)
    // A range before the token existed holds none of its logs.
    assert.deepEqual(await pub.getContractEvents({ address: token, abi: Token.abi, fromBlock: 0n, toBlock: tokenDeployBlock - 1n }), [])
  })

  test('eth_getLogs filters on all three indexed topics of a stored value', async () => {
    const key1 = keccak256(toHex('alpha'))
    const key2 = keccak256(toHex('beta'))
    const set = async (w: number, key: Hex, value: bigint) =>
      mined(await wallets[w].writeContract({ address: registry, abi: Registry.abi, functionName: 'set', args: [key, value] }))
    const a = await set(0, key1, 7n)
    const b = await set(1, key2, 7n)
    const c = await set(1, key1, 9n)
    const event = parseAbiItem('event ValueSet(address indexed setter, bytes32 indexed key, uint256 indexed value, uint256 total)')
    const logs = async (args: Record<string, unknown>) =>
      (await pub.getLogs({ address: registry, event, args, fromBlock: a.blockNumber } as never)) as unknown as { transactionHash: Hash; args: { total: bigint } }[]
    assert.deepEqual((await logs({ key: key1 })).map((l) => l.transactionHash), [a.transactionHash, c.transactionHash])
    assert.deepEqual((await logs({ value: 7n })).map((l) => l.transactionHash), [a.transactionHash, b.transactionHash])
    assert.deepEqual((await logs({ setter: accounts[1].address, key: key1 })).map((l) => l.args.total), [3n])
    assert.deepEqual(await logs({ setter: accounts[2].address }), [])
    assert.equal(await pub.readContract({ address: registry, abi: Registry.abi, functionName: 'values', args: [key1] }), 9n)
    assert.equal(await pub.readContract({ address: registry, abi: Registry.abi, functionName: 'count' }), 3n)
    // The mapping slot keccak(key . 0) holds the value, as Solidity lays it out.
    const slot = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [key2, 0n]))
    assert.equal(hexToBigInt((await pub.getStorageAt({ address: registry, slot }))!), 7n)
  })

  test('eth_getStorageAt takes a 32-byte slot with leading zeros, as geth does', async () => {
    // totalSupply is slot 2.
    assert.equal(hexToBigInt((await pub.getStorageAt({ address: token, slot: toHex(2, { size: 32 }) }))!), TOKEN_SUPPLY)
  })

  test('logs arrive over WebSocket: watchContractEvent and a raw logs subscription', async () => {
    const [, , carol, dave] = accounts
    const watched: { to: Address; value: bigint; tx: Hash }[] = []
    const unwatch = ws.watchContractEvent({
      address: token,
      abi: [TRANSFER],
      eventName: 'Transfer',
      args: { to: dave.address },
      poll: false,
      onLogs: (logs) => { for (const l of logs) watched.push({ to: l.args.to!, value: l.args.value!, tx: l.transactionHash! }) },
      onError: (err) => { throw err },
    })
    // A raw eth_subscribe on the same socket: once its id is back, the watch (sent earlier on
    // this socket, registered synchronously by the server) is live too.
    const raw: { topics: Hex[]; transactionHash: Hash; removed: boolean }[] = []
    const transferTopic = keccak256(toHex('Transfer(address,address,uint256)'))
    const sub = await wsTransport(ws).subscribe({
      params: ['logs', { address: token, topics: [transferTopic, pad(carol.address)] }],
      onData: (data: { result: (typeof raw)[number] }) => raw.push(data.result),
    })
    try {
      const toDave = await mined(await wallets[2].writeContract({ address: token, abi: Token.abi, functionName: 'transfer', args: [dave.address, 5n] }))
      const toAlice = await mined(await wallets[2].writeContract({ address: token, abi: Token.abi, functionName: 'transfer', args: [accounts[0].address, 6n] }))
      await waitFor('the watched Transfer to dave', () => watched.length >= 1, { timeoutMs: 10_000 })
      await waitFor('both Transfers from carol on the raw subscription', () => raw.length >= 2, { timeoutMs: 10_000 })
      assert.deepEqual(watched, [{ to: dave.address, value: 5n, tx: toDave.transactionHash }])
      assert.deepEqual(raw.map((l) => l.transactionHash), [toDave.transactionHash, toAlice.transactionHash])
      assert.ok(raw.every((l) => l.removed === false && l.topics[1] === pad(carol.address.toLowerCase() as Hex)))
    } finally {
      unwatch()
      await sub.unsubscribe()
    }
  })

  test('newHeads and newPendingTransactions subscriptions fire', async () => {
    const heads: { number: Hex; hash: Hash; parentHash: Hash }[] = []
    const pending: Hash[] = []
    const t = wsTransport(ws)
    const subHeads = await t.subscribe({ params: ['newHeads'], onData: (d: { result: (typeof heads)[number] }) => heads.push(d.result) })
    const subPending = await t.subscribe({ params: ['newPendingTransactions'], onData: (d: { result: Hash }) => pending.push(d.result) })
    try {
      const before = await pub.getBlock()
      const hash = await wallets[3].sendTransaction({ to: accounts[0].address, value: 1n })
      const receipt = await mined(hash)
      await waitFor('the pending tx hash', () => pending.includes(hash), { timeoutMs: 10_000 })
      await waitFor('the new head', () => heads.some((h) => h.hash === receipt.blockHash), { timeoutMs: 10_000 })
      const head = heads.find((h) => h.hash === receipt.blockHash)!
      assert.equal(hexToBigInt(head.number), receipt.blockNumber)
      assert.equal(receipt.blockNumber, before.number + 1n)
      assert.equal(head.parentHash, before.hash)
      // An empty block mined on demand is announced too.
      await node.rpc('evm_mine')
      const next = await pub.getBlock()
      await waitFor('the evm_mine head', () => heads.some((h) => h.hash === next.hash), { timeoutMs: 10_000 })
    } finally {
      await subHeads.unsubscribe()
      await subPending.unsubscribe()
    }
  })

  test('ETH balances change by the value plus the gas paid', async () => {
    const [, , carol, dave] = accounts
    const value = parseEther('1.5')
    const head = await pub.getBlockNumber()
    const carolBefore = await pub.getBalance({ address: carol.address, blockNumber: head })
    const daveBefore = await pub.getBalance({ address: dave.address, blockNumber: head })
    const receipt = await mined(await wallets[2].sendTransaction({ to: dave.address, value }))
    assert.equal(receipt.status, 'success')
    assert.equal(receipt.blockNumber, head + 1n)
    assert.equal(receipt.gasUsed, 21_000n)
    const block = await pub.getBlock({ blockNumber: receipt.blockNumber })
    const tx = await pub.getTransaction({ hash: receipt.transactionHash })
    assert.equal(tx.type, 'eip1559')
    // effectiveGasPrice = baseFee + min(tip, feeCap - baseFee)
    const tip = tx.maxPriorityFeePerGas! < tx.maxFeePerGas! - block.baseFeePerGas! ? tx.maxPriorityFeePerGas! : tx.maxFeePerGas! - block.baseFeePerGas!
    assert.equal(receipt.effectiveGasPrice, block.baseFeePerGas! + tip)
    const fee = receipt.gasUsed * receipt.effectiveGasPrice
    assert.equal(await pub.getBalance({ address: carol.address }), carolBefore - value - fee)
    assert.equal(await pub.getBalance({ address: dave.address }), daveBefore + value)
    // The producer gets the block reward plus the tips; the base fee is burnt.
    const miner = block.miner
    const minerBefore = await pub.getBalance({ address: miner, blockNumber: head })
    const minerAfter = await pub.getBalance({ address: miner, blockNumber: receipt.blockNumber })
    assert.equal(minerAfter - minerBefore, BLOCK_REWARD + receipt.gasUsed * tip)
  })

  test('estimateGas covers what the transaction then uses', async () => {
    const [, bob, carol] = accounts
    const plain = await pub.estimateGas({ account: carol.address, to: bob.address, value: 1n })
    assert.equal(plain, 21_000n)

    const args = [getAddress('0x00000000000000000000000000000000000c0ffe'), 10n] as const
    const estimate = await pub.estimateContractGas({ address: token, abi: Token.abi, functionName: 'transfer', args, account: accounts[0].address })
    const receipt = await mined(await wallets[0].writeContract({ address: token, abi: Token.abi, functionName: 'transfer', args, gas: estimate }))
    assert.equal(receipt.status, 'success', 'a tx given exactly the estimate succeeds')
    assert.ok(estimate >= receipt.gasUsed, `estimate ${estimate} >= gasUsed ${receipt.gasUsed}`)
    assert.ok(estimate - receipt.gasUsed <= receipt.gasUsed / 10n, `estimate ${estimate} is close to gasUsed ${receipt.gasUsed}`)
    // Too little gas: the same call runs out of gas and is mined as failed.
    const starved = await mined(await wallets[0].writeContract({ address: token, abi: Token.abi, functionName: 'transfer', args, gas: 30_000n }))
    assert.equal(starved.status, 'reverted')
    assert.equal(starved.gasUsed, 30_000n)
  })

  test('eth_call and eth_estimateGas surface the revert reason', async () => {
    const [, bob, carol] = accounts
    const tooMuch = [carol.address, 10n ** 30n] as const
    await assert.rejects(
      pub.simulateContract({ address: token, abi: Token.abi, functionName: 'transfer', args: tooMuch, account: bob.address }),
      (err: unknown) => {
        const reverted = (err as BaseError).walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null
        assert.ok(reverted, `a ContractFunctionRevertedError in ${String(err)}`)
        assert.equal(reverted.reason, 'Token: insufficient balance')
        return true
      },
    )
    const data = encodeFunctionData({ abi: Token.abi, functionName: 'transfer', args: tooMuch })
    for (const method of ['eth_call', 'eth_estimateGas']) {
      await assert.rejects(node.rpc(method, [{ from: bob.address, to: token, data }, 'latest'].slice(0, method === 'eth_call' ? 2 : 1)), (err: unknown) => {
        assert.ok(err instanceof RpcCallError)
        assert.equal(err.code, 3)
        assert.equal(err.message, 'execution reverted: Token: insufficient balance')
        assert.match(String(err.data), /^0x08c379a0/)
        return true
      })
    }
    // A Panic is decoded too.
    const divide = encodeFunctionData({ abi: Registry.abi, functionName: 'divide', args: [1n, 0n] })
    await assert.rejects(node.rpc('eth_call', [{ to: registry, data: divide }]), (err: unknown) => {
      assert.ok(err instanceof RpcCallError)
      assert.equal(err.code, 3)
      assert.equal(err.message, 'execution reverted: division or modulo by zero')
      return true
    })
    // Sent anyway (explicit gas skips the estimate): mined as reverted, nonce used, gas paid.
    const nonce = await pub.getTransactionCount({ address: bob.address })
    const receipt = await mined(await wallets[1].writeContract({ address: token, abi: Token.abi, functionName: 'transfer', args: tooMuch, gas: 100_000n }))
    assert.equal(receipt.status, 'reverted')
    assert.equal(await pub.getTransactionCount({ address: bob.address }), nonce + 1)
  })

  test('eth_getProof matches the state and verifies against the block stateRoot', async () => {
    const [alice] = accounts
    const blockNumber = await pub.getBlockNumber()
    const block = await pub.getBlock({ blockNumber })
    const root = hexToBytes(block.stateRoot)

    const proof = await pub.getProof({ address: alice.address, storageKeys: [], blockNumber })
    assert.equal(proof.balance, await pub.getBalance({ address: alice.address, blockNumber }))
    assert.equal(proof.nonce, await pub.getTransactionCount({ address: alice.address, blockNumber }))
    assert.equal(proof.codeHash, keccak256('0x'))
    const account = await verifyAccount(root, alice.address, proof.accountProof)
    assert.deepEqual(account, { nonce: BigInt(proof.nonce), balance: proof.balance, storageRoot: proof.storageHash, codeHash: proof.codeHash })

    // The token's storage: alice's balance sits at keccak(pad(alice) . 3).
    const slot = keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [alice.address, 3n]))
    const tokenProof = await pub.getProof({ address: token, storageKeys: [slot], blockNumber })
    const onChain = await pub.readContract({ address: token, abi: Token.abi, functionName: 'balanceOf', args: [alice.address], blockNumber })
    assert.equal(tokenProof.storageProof[0].value, onChain)
    assert.equal(tokenProof.codeHash, keccak256(Token.deployedBytecode))
    const tokenAccount = await verifyAccount(root, token, tokenProof.accountProof)
    assert.equal(tokenAccount?.storageRoot, tokenProof.storageHash)
    const stored = await verifyMerkleProof(hexToBytes(slot), tokenProof.storageProof[0].proof.map((p) => hexToBytes(p)), {
      root: hexToBytes(tokenProof.storageHash),
      useKeyHashing: true,
    })
    assert.ok(stored)
    assert.equal(bytesToBigInt(RLP.decode(stored) as Uint8Array), onChain)

    // An account that never existed gets a valid proof of absence.
    const nobody = getAddress('0x000000000000000000000000000000000000dEaD')
    const absent = await pub.getProof({ address: nobody, storageKeys: [], blockNumber })
    assert.equal(absent.balance, 0n)
    assert.equal(await verifyAccount(root, nobody, absent.accountProof), null)

    // The same proof does not verify against another block's root.
    const parent = await pub.getBlock({ blockNumber: blockNumber - 1n })
    assert.notEqual(parent.stateRoot, block.stateRoot)
    await assert.rejects(verifyAccount(hexToBytes(parent.stateRoot), alice.address, proof.accountProof))
  })

  test('eth_feeHistory has the documented shape', async () => {
    const head = await pub.getBlockNumber()
    const history = await pub.getFeeHistory({ blockCount: 5, rewardPercentiles: [10, 50, 90] })
    assert.equal(history.oldestBlock, head - 4n)
    assert.equal(history.baseFeePerGas.length, 6)
    assert.equal(history.gasUsedRatio.length, 5)
    assert.equal(history.reward?.length, 5)
    for (const r of history.reward!) assert.equal(r.length, 3)
    for (let i = 0; i < 5; i++) {
      const b = await pub.getBlock({ blockNumber: head - 4n + BigInt(i) })
      assert.equal(history.baseFeePerGas[i], b.baseFeePerGas)
      assert.equal(history.gasUsedRatio[i], Number(b.gasUsed) / Number(b.gasLimit))
      assert.ok(history.gasUsedRatio[i] >= 0 && history.gasUsedRatio[i] <= 1)
      if (b.transactions.length === 0) assert.deepEqual(history.reward![i], [0n, 0n, 0n])
    }
    // The last entry is the base fee of the next block, which eth_gasPrice builds on.
    const gasPrice = await pub.getGasPrice()
    const tip = await pub.estimateMaxPriorityFeePerGas()
    assert.equal(history.baseFeePerGas[5], gasPrice - tip)
    const noRewards = await node.rpc<Record<string, unknown>>('eth_feeHistory', ['0x2', 'latest'])
    assert.deepEqual(Object.keys(noRewards).sort(), ['baseFeePerGas', 'gasUsedRatio', 'oldestBlock'])
  })

  test('blocks by number with full transactions or hashes, and every block tag', async () => {
    const receipt = await mined(await wallets[1].sendTransaction({ to: accounts[2].address, value: 3n }))
    const full = await pub.getBlock({ blockNumber: receipt.blockNumber, includeTransactions: true })
    const hashes = await pub.getBlock({ blockNumber: receipt.blockNumber })
    assert.equal(full.hash, receipt.blockHash)
    assert.equal(hashes.hash, receipt.blockHash)
    assert.deepEqual(hashes.transactions, [receipt.transactionHash])
    assert.equal(full.transactions.length, 1)
    const tx = full.transactions[0]
    assert.equal(tx.hash, receipt.transactionHash)
    assert.equal(tx.from, accounts[1].address.toLowerCase())
    assert.equal(tx.to, accounts[2].address.toLowerCase())
    assert.equal(tx.value, 3n)
    assert.equal(tx.blockHash, receipt.blockHash)
    assert.equal(tx.blockNumber, receipt.blockNumber)
    assert.equal(tx.transactionIndex, 0)
    assert.equal(tx.chainId, 1337)
    const byHash = await pub.getBlock({ blockHash: receipt.blockHash, includeTransactions: true })
    assert.deepEqual(byHash, full)
    const parent = await pub.getBlock({ blockNumber: receipt.blockNumber - 1n })
    assert.equal(full.parentHash, parent.hash)
    assert.ok(full.timestamp >= parent.timestamp)

    const latest = await pub.getBlock({ blockTag: 'latest' })
    assert.equal(latest.number, await pub.getBlockNumber())
    const earliest = await pub.getBlock({ blockTag: 'earliest' })
    assert.equal(earliest.number, 0n)
    assert.equal(earliest.hash, node.info.genesisHash)
    assert.deepEqual(earliest.transactions, [])
    // A dev chain finalizes each block as it is sealed; pending is served as the head.
    for (const blockTag of ['safe', 'finalized', 'pending'] as const) {
      const b = await pub.getBlock({ blockTag })
      assert.equal(b.number, latest.number, blockTag)
      assert.equal(b.hash, latest.hash, blockTag)
    }
    assert.equal(await node.rpc('eth_getBlockByNumber', [toHex(latest.number + 1000n), false]), null)
  })

  test('evm_mine, hardhat_mine (100 blocks at once) and evm_increaseTime', async () => {
    const start = await pub.getBlock()
    assert.equal(await node.rpc('evm_mine'), '0x0')
    const one = await pub.getBlock()
    assert.equal(one.number, start.number + 1n)
    assert.equal(one.parentHash, start.hash)
    assert.deepEqual(one.transactions, [])
    assert.equal(one.gasUsed, 0n)

    assert.equal(await node.rpc('hardhat_mine', ['0x64']), true)
    const hundred = await pub.getBlock()
    assert.equal(hundred.number, one.number + 100n)
    const middle = await pub.getBlock({ blockNumber: one.number + 50n })
    const middleNext = await pub.getBlock({ blockNumber: one.number + 51n })
    assert.equal(middleNext.parentHash, middle.hash)
    assert.ok(hundred.timestamp >= one.timestamp)

    const shift = 3600
    const now = BigInt(Math.floor(Date.now() / 1000))
    assert.ok(await node.rpc<number>('evm_increaseTime', [shift]) >= shift)
    await node.rpc('evm_mine')
    const later = await pub.getBlock()
    assert.equal(later.number, hundred.number + 1n)
    assert.ok(later.timestamp >= now + BigInt(shift), `timestamp ${later.timestamp} is at least now + ${shift} (${now + BigInt(shift)})`)
    // A transaction mined now is stamped in the shifted time as well.
    const receipt = await mined(await wallets[0].sendTransaction({ to: accounts[1].address, value: 1n }))
    const txBlock = await pub.getBlock({ blockNumber: receipt.blockNumber })
    assert.ok(txBlock.timestamp >= later.timestamp)

    // evm_setNextBlockTimestamp pins the next block's time exactly.
    const pinned = later.timestamp + 100_000n
    await node.rpc('evm_setNextBlockTimestamp', [toHex(pinned)])
    await node.rpc('evm_mine')
    assert.equal((await pub.getBlock()).timestamp, pinned)
  })
})

// ---- helpers ----

type SubscribeFn = (args: { params: unknown[]; onData: (data: any) => void; onError?: (err: Error) => void }) => Promise<{ subscriptionId: Hex; unsubscribe: () => Promise<unknown> }>

/** viem's WebSocket transport: `subscribe` sends eth_subscribe and resolves with its id. */
function wsTransport(client: PublicClient<WebSocketTransport, Chain>): { subscribe: SubscribeFn; getRpcClient: () => Promise<{ close(): void }> } {
  return client.transport as unknown as { subscribe: SubscribeFn; getRpcClient: () => Promise<{ close(): void }> }
}

async function closeWebSocket(client: PublicClient<WebSocketTransport, Chain>): Promise<void> {
  const rpc = await wsTransport(client).getRpcClient()
  rpc.close()
}

/** Verifies an account proof against `root`: the decoded account, or null for a proof of absence. */
async function verifyAccount(root: Uint8Array, address: Address, proof: Hex[]) {
  const value = await verifyMerkleProof(hexToBytes(address), proof.map((p) => hexToBytes(p)), { root, useKeyHashing: true })
  if (value === null) return null
  const [nonce, balance, storageRoot, codeHash] = RLP.decode(value) as Uint8Array[]
  return {
    nonce: bytesToBigInt(nonce),
    balance: bytesToBigInt(balance),
    storageRoot: toHex(storageRoot),
    codeHash: toHex(codeHash),
  }
}

