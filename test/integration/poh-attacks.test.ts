/**
 * Byzantine leaders on a solana-like chain of 4 validator processes: validator 2 gossips a
 * copy of each of its blocks with one PoH hash wrong (--byzantine bad-poh), validator 3
 * builds the first block of each of its leader groups beside the previous leader's block, on
 * its parent (--byzantine fork), so two leaders build on different parents at once. Honest
 * nodes refuse the bad copies and score their sender down; they store the fork blocks (they
 * are valid) and the votes settle each fork: every node finalizes the same block at every
 * height, never both sides.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { makeDatadir, removeDatadir, waitFor, type NodeProcess } from '../helpers/node-process.ts'
import { AgreementWatch, assertAgreement } from '../helpers/agreement.ts'
import { startValidator, withLogs } from '../helpers/validators.ts'

type Hex = `0x${string}`
const CHAIN = 'solana-like'
const dirs: string[] = []
const running = new Set<NodeProcess>()

after(async () => {
  await Promise.all([...running].map((n) => n.kill().catch(() => undefined)))
  await Promise.all(dirs.map(removeDatadir))
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

    // A fork block by validator 3 reaches the honest nodes and is stored (it is valid).
    const forkHash = await waitFor('a block built beside the previous leader\'s', async () => {
      const m = /"hash":"(0x[0-9a-f]{64})","msg":"byzantine: a block of our slot built beside/.exec(v[3].output())
      if (!m) return undefined
      const stored = await v[0].rpc<{ number: Hex } | null>('eth_getBlockByHash', [m[1], false])
      return stored ? { hash: m[1] as Hex, height: BigInt(stored.number) } : undefined
    }, { timeoutMs: 120_000 }).catch(withLogs(v))

    // The votes settle it: the honest nodes finalize past the fork, on the same block.
    await waitFor('finality past the fork on the honest nodes', async () => (await Promise.all(honest.map(finalized))).every((f) => f > forkHash.height + 2n), { timeoutMs: 120_000 }).catch(withLogs(v))
    await assertAgreement(honest, 'finalized')
    const finalAtFork = await Promise.all(honest.map((n) => n.rpc<{ hash: Hex }>('eth_getBlockByNumber', ['0x' + forkHash.height.toString(16), false])))
    assert.equal(new Set(finalAtFork.map((b) => b.hash)).size, 1, 'one block final at the fork height, the same on both')
    const safety = await watch.stop()
    assert.deepEqual(safety.violations, [])
    assert.ok(safety.checks > 10 && safety.heights > 5, `the watch checked (${safety.checks} checks, ${safety.heights} heights)`)
  })
})
