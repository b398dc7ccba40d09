/**
 * A solana-like chain (PoH, 4 validators staking 40/30/20/10 ETH) as four OS processes over
 * libp2p: slots advance with leaders drawn by stake; a tx sent to one node is confirmed and
 * then finalized on all; killing the current leader leaves its slots skipped and the chain
 * goes on; the killed validator restarts, catches up and votes again; a validator that signs
 * two blocks for its slots (--byzantine double-sign) is caught and slashed (jailed: out of the
 * staking contract's active set); no two nodes ever call different blocks final at one height.
 *
 * Then byzantine leaders, on a fresh network: validator 2 gossips a copy of each of its blocks
 * with one PoH hash wrong (--byzantine bad-poh), validator 3 builds the first block of each of
 * its leader groups beside the previous leader's block, on its parent (--byzantine fork), so
 * two leaders build on different parents at once. Honest nodes refuse the bad copies and score
 * their sender down; they store the fork blocks (they are valid) and the votes settle each
 * fork: every node finalizes the same block at every height, never both sides.
 *
 * One file, so the two 4-validator networks never run at once (the runner runs 2 files at a
 * time; 8 PoH clocks on 2 cores starve both networks).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes, privateToAddress } from '@ethereumjs/util'
import { STAKE_SNAPSHOT_CALLDATA, STAKING_ADDRESS, decodeStakeSnapshot } from '../../src/contracts/index.ts'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS } from '../helpers/chain.ts'
import { AgreementWatch, assertAgreement } from '../helpers/agreement.ts'
import { makeDatadir, removeDatadir, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { startValidator, withLogs } from '../helpers/validators.ts'

type Hex = `0x${string}`
const CHAIN = 'solana-like'
const common = makeCommon(1342n)
const dirs: string[] = []
const running = new Set<NodeProcess>()
const ADDRESSES: string[] = KEYS.slice(0, 4).map((k) => bytesToHex(privateToAddress(k)))

/** Stops every validator started so far (the next network starts on an idle machine). */
async function stopAll(): Promise<void> {
  await Promise.all([...running].map((n) => n.kill().catch(() => undefined)))
  running.clear()
}

after(async () => {
  await stopAll()
  await Promise.all(dirs.map(removeDatadir))
})

interface PohStatus {
  slot: number
  leader: string | null
  headSlot: number
  confirmedSlot: number
  finalizedSlot: number
  votesSent: number
  produced: number
  duplicatesFound: number
}
interface BlockPoh {
  slot: number
  parentSlot: number
  leader: string
}

const status = (n: NodeProcess) => n.rpc<PohStatus>('catena_pohStatus')
const height = async (n: NodeProcess) => BigInt(await n.rpc<Hex>('eth_blockNumber'))
const tagged = async (n: NodeProcess, tag: 'safe' | 'finalized') => BigInt((await n.rpc<{ number: Hex }>('eth_getBlockByNumber', [tag, false])).number)
/** The staking contract's active validators at the head (lowercase hex). */
const activeValidators = async (n: NodeProcess) =>
  decodeStakeSnapshot(hexToBytes(await n.rpc<Hex>('eth_call', [{ to: STAKING_ADDRESS, data: bytesToHex(STAKE_SNAPSHOT_CALLDATA) }, 'latest']))).validators.map((x): string => bytesToHex(x.address))
const pohOf = (n: NodeProcess, h: bigint) => n.rpc<BlockPoh>('catena_getBlockPoh', ['0x' + h.toString(16)])

describe('solana-like PoH network (4 validator processes)', () => {
  test('leader rotation by stake, confirmation and finality on all, a killed leader skipped, restart and vote again, agreement on final blocks', async () => {
    const datadirs = await Promise.all([0, 1, 2, 3].map(() => makeDatadir()))
    dirs.push(...datadirs)
    const v: NodeProcess[] = []
    v[0] = await startValidator(0, datadirs[0], [], { running, chain: CHAIN })
    const boot = v[0].info.p2p![0]
    // Validator 3 (10% of the stake) double-signs: every block of its slots has a signed twin.
    for (let i = 1; i < 4; i++) v[i] = await startValidator(i, datadirs[i], [boot], { running, chain: CHAIN, args: i === 3 ? ['--byzantine', 'double-sign'] : [] })
    const watch = new AgreementWatch(() => v, 500, 'finalized').start()

    // Slots advance; blocks come from the scheduled leaders, more than one of them.
    await waitFor('blocks from several leaders', async () => (await height(v[3])) >= 12n, { timeoutMs: 90_000 }).catch(withLogs(v))
    const schedule = await v[0].rpc<{ firstSlot: number; slotsPerLeader: number; leaders: string[] }>('catena_pohLeaderSchedule')
    const producers = new Set<string>()
    for (let h = 1n; h <= 12n; h++) {
      const p = await pohOf(v[0], h)
      producers.add(p.leader)
      const group = Math.floor((p.slot - schedule.firstSlot) / schedule.slotsPerLeader)
      if (group >= 0 && group < schedule.leaders.length) assert.equal(p.leader, schedule.leaders[group], `block ${h} (slot ${p.slot}) is by its scheduled leader`)
    }
    assert.ok(producers.size >= 2, `blocks by several leaders (${[...producers].join(', ')})`)

    // A tx sent to validator 2: in a block on all four, then confirmed (safe), then finalized.
    const raw = bytesToHex(
      createFeeMarket1559Tx({ nonce: 0n, to: '0x000000000000000000000000000000000000cafe', value: 42n, gasLimit: 21000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, chainId: 1342n }, { common })
        .sign(KEYS[6])
        .serialize(),
    )
    const hash = await v[2].rpc<Hex>('eth_sendRawTransaction', [raw])
    const receipt = await waitFor('the tx in a block', () => v[0].rpc<{ blockNumber: Hex; blockHash: Hex } | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), { timeoutMs: 60_000 }).catch(withLogs(v))
    const txHeight = BigInt(receipt.blockNumber)
    for (const n of v) {
      await waitFor(`the tx confirmed on validator ${v.indexOf(n)}`, async () => (await tagged(n, 'safe')) >= txHeight, { timeoutMs: 60_000 }).catch(withLogs(v))
    }
    for (const n of v) {
      await waitFor(`the tx finalized on validator ${v.indexOf(n)}`, async () => (await tagged(n, 'finalized')) >= txHeight, { timeoutMs: 120_000 }).catch(withLogs(v))
      const r = await n.rpc<{ blockHash: Hex } | null>('eth_getTransactionReceipt', [hash])
      assert.equal(r?.blockHash, receipt.blockHash, 'every node has the tx in the same final block')
    }
    await assertAgreement(v, 'finalized')

    // The double signer is caught by every honest node and slashed by a later leader's block: jailed, out of the active set.
    await waitFor('the double signer to be caught', async () => (await status(v[0])).duplicatesFound > 0, { timeoutMs: 120_000 }).catch(withLogs(v))
    await waitFor('the double signer to be slashed and jailed', async () => !(await activeValidators(v[0])).includes(ADDRESSES[3]!), { timeoutMs: 60_000 }).catch(withLogs(v))
    assert.ok((await activeValidators(v[1])).includes(ADDRESSES[0]!), 'honest validators stay')

    // Kill the current leader: its slots are skipped (blocks after it cover them), the chain goes on.
    const before = await status(v[0])
    const leaderIndex = Math.max(0, ADDRESSES.indexOf(before.leader ?? ''))
    const killedAt = await height(v[(leaderIndex + 1) % 4])
    const killedSlot = (await status(v[leaderIndex])).slot
    await v[leaderIndex].kill()
    running.delete(v[leaderIndex])
    const live = v.filter((_, i) => i !== leaderIndex)
    await waitFor('the chain to go on without the leader', async () => (await height(live[0])) >= killedAt + 6n, { timeoutMs: 90_000 }).catch(withLogs(live))
    let skipped = false
    const top = await height(live[0])
    for (let h = killedAt + 1n; h <= top && !skipped; h++) {
      const p = await pohOf(live[0], h)
      if (p.slot > p.parentSlot + 1) skipped = true
      // Blocks it made before it died may still land; none for a slot after its death.
      if (p.leader === before.leader) assert.ok(p.slot <= killedSlot + 1, `no block by the killed leader after it died (slot ${p.slot}, killed in ${killedSlot})`)
    }
    assert.ok(skipped, 'a block covers skipped slots')

    // Restart it: it catches up and votes again.
    v[leaderIndex] = await startValidator(leaderIndex, datadirs[leaderIndex], live.map((n) => n.info.p2p![0]), { running, chain: CHAIN })
    const target = await height(live[0])
    await waitFor('the restarted validator to catch up', async () => (await height(v[leaderIndex])) >= target, { timeoutMs: 90_000 }).catch(withLogs(v))
    await waitFor('the restarted validator to vote again', async () => (await status(v[leaderIndex])).votesSent > 0, { timeoutMs: 60_000 }).catch(withLogs(v))
    const fin = await tagged(v[leaderIndex], 'finalized')
    await waitFor('finality to go on with all four', async () => (await tagged(v[0], 'finalized')) > fin + 2n, { timeoutMs: 120_000 }).catch(withLogs(v))
    await assertAgreement(v, 'finalized')
    const safety = await watch.stop()
    assert.deepEqual(safety.violations, [])
    assert.ok(safety.checks > 10 && safety.heights > 5, `the watch checked (${safety.checks} checks, ${safety.heights} heights)`)
    await stopAll()
  })
})

const finalized = async (n: NodeProcess) => BigInt((await n.rpc<{ number: Hex }>('eth_getBlockByNumber', ['finalized', false])).number)
const peerIdOf = (n: NodeProcess) => n.info.p2p![0]!.split('/p2p/')[1]!

interface PeersView {
  items: Array<{ id: string; penalty: number }>
  banned: Array<{ id: string }>
}

describe('solana-like PoH network with byzantine leaders (4 validator processes)', () => {
  test('a block with one wrong PoH hash is refused and its sender scored down; leaders building on different parents resolve to one fork by votes', async () => {
    const datadirs = await Promise.all([0, 1, 2, 3].map(() => makeDatadir()))
    dirs.push(...datadirs)
    const v: NodeProcess[] = []
    v[0] = await startValidator(0, datadirs[0], [], { running, chain: CHAIN })
    const boot = v[0].info.p2p![0]
    v[1] = await startValidator(1, datadirs[1], [boot], { running, chain: CHAIN })
    v[2] = await startValidator(2, datadirs[2], [boot], { running, chain: CHAIN, args: ['--byzantine', 'bad-poh'] })
    v[3] = await startValidator(3, datadirs[3], [boot], { running, chain: CHAIN, args: ['--byzantine', 'fork'] })
    const honest = [v[0], v[1]]
    const watch = new AgreementWatch(() => v, 500, 'finalized').start()

    // The bad-PoH copies cost their sender: honest nodes score it down (or ban it).
    const badPeer = peerIdOf(v[2])
    await waitFor('the bad-PoH sender to be scored down', async () => {
      const peers = await fetch(`${v[0].info.rpcUrl}/v1/peers`).then((r) => r.json() as Promise<PeersView>)
      return peers.banned.some((b) => b.id === badPeer) || peers.items.some((p) => p.id === badPeer && p.penalty > 0) ? true : undefined
    }, { timeoutMs: 120_000 }).catch(withLogs(v))
    assert.match(v[0].output(), /invalid block from gossip[^\n]*|BAD_POH/, 'the refusal is logged')

    // Fork blocks by validator 3 reach the honest nodes and are stored (they are valid). Any one
    // will do: a gossiped block may miss a node (it arrived while that node was busy, or after
    // the node had moved on), and sync fetches only the heaviest branch.
    const forkHash = await waitFor('a block built beside the previous leader\'s', async () => {
      const hashes = [...v[3].output().matchAll(/"hash":"(0x[0-9a-f]{64})","msg":"byzantine: a block of our slot built beside/g)].map((m) => m[1] as Hex)
      for (const hash of hashes) {
        for (const n of honest) {
          const stored = await n.rpc<{ number: Hex } | null>('eth_getBlockByHash', [hash, false])
          if (stored) return { hash, height: BigInt(stored.number) }
        }
      }
      return undefined
    }, { timeoutMs: 120_000 }).catch(withLogs(v))

    // The votes settle it: the honest nodes finalize past the fork, on the same block.
    await waitFor('finality past the fork on the honest nodes', async () => (await Promise.all(honest.map(finalized))).every((f) => f > forkHash.height + 2n), { timeoutMs: 120_000 }).catch(withLogs(v))
    await assertAgreement(honest, 'finalized')
    const finalAtFork = await Promise.all(honest.map((n) => n.rpc<{ hash: Hex }>('eth_getBlockByNumber', ['0x' + forkHash.height.toString(16), false])))
    assert.equal(new Set(finalAtFork.map((b) => b.hash)).size, 1, 'one block final at the fork height, the same on both')
    const safety = await watch.stop()
    assert.deepEqual(safety.violations, [])
    assert.ok(safety.checks > 10 && safety.heights > 5, `the watch checked (${safety.checks} checks, ${safety.heights} heights)`)
    await stopAll()
  })
})
