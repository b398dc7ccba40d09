/**
 * A permissioned consortium chain as OS processes: four validators whose genesis lists their
 * node ids and restricts accounts to the admins. A fifth node outside the node allowlist
 * cannot connect; an account outside the account allowlist cannot send. The admins then vote
 * on chain (permissions contract): the fifth node is let in and syncs, becomes a validator,
 * two old validators are voted out and stopped, and the chain keeps finalizing with the new
 * set. Nodes agree on every height throughout.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PERMISSIONS_ADDRESS, ProposalKind, encodePropose, encodeVote, type ProposalInput } from '../../src/contracts/index.ts'
import { makeCommon } from '../../src/execution/index.ts'
import { loadOrCreateNodeKey } from '../../src/net/node-key.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { KEYS, addressOf } from '../helpers/chain.ts'
import { AgreementWatch, assertAgreement } from '../helpers/agreement.ts'
import { blockHeight, makeDatadir, startNode, trackNodes, waitFor, type NodeProcess } from '../helpers/node-process.ts'

type Hex = `0x${string}`
const common = makeCommon(1338n)
const { dirs, running, cleanup } = trackNodes()
after(cleanup)

const height = blockHeight
const peers = async (n: NodeProcess) => Number(BigInt(await n.rpc<Hex>('net_peerCount')))


const nonces = new Map<number, bigint>()
function signed(from: number, to: string, data: Uint8Array, value = 0n): Hex {
  const nonce = nonces.get(from) ?? 0n
  nonces.set(from, nonce + 1n)
  const tx = createFeeMarket1559Tx(
    { nonce, to: to as Hex, value, data, gasLimit: 1_000_000n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n, chainId: 1338n },
    { common },
  ).sign(KEYS[from])
  return bytesToHex(tx.serialize())
}

async function finalOn(node: NodeProcess, hash: Hex): Promise<{ status: Hex }> {
  return waitFor(`tx ${hash}`, () => node.rpc<{ status: Hex } | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), { timeoutMs: 60_000 })
}

describe('permissioned consortium (allowlists and on-chain votes)', () => {
  test('outsiders are refused until the admins vote them in; validators change by vote', async () => {
    const datadirs = await Promise.all([0, 1, 2, 3, 4].map(() => makeDatadir()))
    dirs.push(...datadirs)
    // Node ids exist before the genesis that lists them.
    const peerIds = await Promise.all(datadirs.map(async (d) => peerIdFromPrivateKey((await loadOrCreateNodeKey(d)).key).toString()))
    const spec = presetJSON('consortium')!
    spec.name = 'permissioned-test'
    spec.permissions = { admins: [0, 1, 2, 3].map((i) => addressOf(i).toString()), accounts: [], nodes: peerIds.slice(0, 4) }
    const genesisFile = join(datadirs[0], 'genesis.json')
    await writeFile(genesisFile, JSON.stringify(spec))

    const start = async (i: number, bootnodes: string[], key = i) => {
      const keyFile = join(datadirs[i], 'validator.key')
      await writeFile(keyFile, bytesToHex(KEYS[key]), { mode: 0o600 })
      const node = await startNode({
        datadir: datadirs[i],
        chain: genesisFile,
        args: ['--p2p-port', '0', '--validator-key-file', keyFile, ...(bootnodes.length ? ['--bootnodes', bootnodes.join(',')] : [])],
      })
      running.add(node)
      return node
    }
    const v: NodeProcess[] = []
    v[0] = await start(0, [])
    const boot = v[0].info.p2p![0]
    for (let i = 1; i < 4; i++) v[i] = await start(i, [boot])
    let outsider: NodeProcess | undefined
    const watch = new AgreementWatch(() => [...v, outsider]).start()
    await waitFor('blocks to finalize', async () => (await height(v[3])) >= 2n, { timeoutMs: 60_000 })

    // Node 4 (holding account 4's key, not a validator yet) is outside the node allowlist.
    outsider = await start(4, [boot])
    const h0 = await height(v[0])
    await waitFor('the chain to move on', async () => (await height(v[0])) >= h0 + 3n, { timeoutMs: 60_000 })
    assert.equal(await peers(outsider), 0, 'the outsider has no peers')
    assert.equal(await height(outsider), 0n, 'the outsider synced nothing')
    for (const n of v) assert.equal(await peers(n), 3, 'members are connected to each other only')

    // Account 5 is outside the account allowlist: refused by the mempool with a clear error.
    await assert.rejects(v[1].rpc('eth_sendRawTransaction', [signed(5, '0x000000000000000000000000000000000000cafe', new Uint8Array(0), 1n)]), /not authorized to send/)
    nonces.set(5, 0n)

    // One change by vote: admin 0 proposes, admins 1 and 2 vote (3 of 4 = majority).
    let proposals = 0n
    const change = async (p: ProposalInput) => {
      const id = ++proposals
      const proposed = await finalOn(v[0], await v[0].rpc<Hex>('eth_sendRawTransaction', [signed(0, PERMISSIONS_ADDRESS, encodePropose(p))]))
      assert.equal(proposed.status, '0x1', `proposal ${id} accepted`)
      const votes = await Promise.all([1, 2].map(async (a) => finalOn(v[a], await v[a].rpc<Hex>('eth_sendRawTransaction', [signed(a, PERMISSIONS_ADDRESS, encodeVote(id))]))))
      for (const r of votes) assert.equal(r.status, '0x1', `vote on proposal ${id} accepted`)
    }

    // Let node 4 in: it connects (its dialer keeps trying) and syncs the chain.
    await change({ kind: ProposalKind.AllowNode, node: peerIds[4] })
    await waitFor('the outsider to connect and sync', async () => (await height(outsider)) >= (await height(v[0])) - 1n && (await peers(outsider)) > 0, { timeoutMs: 60_000 })
    const permissions = await v[3].rpc<{ nodes: string[] }>('catena_permissions')
    assert.ok(permissions.nodes.includes(peerIds[4]))

    // Let account 5 send.
    await change({ kind: ProposalKind.AllowAccount, account: addressOf(5).bytes })
    const account5 = addressOf(5).toString()
    await waitFor('node 4 to see the new account allowlist', async () =>
      (await outsider.rpc<{ accounts: string[] }>('catena_permissions')).accounts.some((a) => a.toLowerCase() === account5) || undefined,
      { timeoutMs: 60_000 },
    )
    const paid = await finalOn(outsider, await outsider.rpc<Hex>('eth_sendRawTransaction', [signed(5, '0x000000000000000000000000000000000000cafe', new Uint8Array(0), 7n)]))
    assert.equal(paid.status, '0x1')

    // Validators: add account 4 (node 4), remove accounts 2 and 3.
    await change({ kind: ProposalKind.SetValidator, account: addressOf(4).bytes, power: 1n })
    await change({ kind: ProposalKind.SetValidator, account: addressOf(2).bytes, power: 0n })
    await change({ kind: ProposalKind.SetValidator, account: addressOf(3).bytes, power: 0n })
    const state = await v[0].rpc<{ validators: Array<{ address: Hex }> }>('catena_permissions')
    assert.deepEqual(state.validators.map((x) => x.address.toLowerCase()).sort(), [0, 1, 4].map((i) => addressOf(i).toString()).sort())

    // Stop the two removed validators: with the old set (2 of 4 left) finality would halt;
    // with the voted set {0, 1, 4} it continues.
    const live = [v[0], v[1], outsider]
    await assertAgreement([...live, v[2], v[3]])
    for (const gone of [v[2], v[3]]) {
      await gone.kill()
      running.delete(gone)
    }
    const h1 = await height(v[0])
    await waitFor('finality with the voted validator set', async () => (await height(v[0])) >= h1 + 3n, { timeoutMs: 60_000 })
    const consensus = await outsider.rpc<{ validators: unknown[] }>('catena_consensusState')
    assert.equal(consensus.validators.length, 3)
    await assertAgreement(live)
    const safety = await watch.stop()
    assert.deepEqual(safety.violations, [])
    assert.ok(safety.checks > 10, `the watch checked (${safety.checks} checks)`)
  })
})
