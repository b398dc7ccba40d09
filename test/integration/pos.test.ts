/**
 * Proof of Stake (the `ethereum-like` preset with short epochs) as four validator processes:
 * validator 3 runs with --byzantine double-vote and signs conflicting prevotes; the others
 * detect it, gossip the evidence, include it in a block, and the staking contract burns part of
 * its stake and jails it, so it leaves the validator set while the chain keeps finalizing. A new
 * account stakes with a transaction and joins the set at the next epoch boundary. Voters earn
 * their share of the block reward. Nodes agree on every height.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { STAKING_ADDRESS, decodeUint, encodeIsJailed, encodeStake, encodeStakeOf } from '../../src/contracts/index.ts'
import { makeCommon } from '../../src/execution/index.ts'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { KEYS, addressOf } from '../helpers/chain.ts'
import { AgreementWatch, assertAgreement } from '../helpers/agreement.ts'
import { blockHeight, makeDatadir, startNode, trackNodes, waitFor, type NodeProcess } from '../helpers/node-process.ts'

type Hex = `0x${string}`
const ETHER = 10n ** 18n
const EPOCH = 4
const common = makeCommon(1339n)
const { dirs, running, cleanup } = trackNodes()
after(cleanup)

const height = blockHeight


async function stakingView(node: NodeProcess, data: Uint8Array): Promise<bigint> {
  return decodeUint(hexToBytes(await node.rpc<Hex>('eth_call', [{ to: STAKING_ADDRESS, data: bytesToHex(data) }, 'latest'])))
}

const validatorsOf = async (node: NodeProcess) =>
  (await node.rpc<{ validators: Array<{ address: Hex; power: Hex }> }>('catena_consensusState')).validators.map((v) => ({ address: v.address.toLowerCase(), power: BigInt(v.power) }))

describe('proof of stake (4 validator processes, one byzantine)', () => {
  test('a double-voter is slashed and jailed; a new staker joins at the epoch boundary; voters are paid', async () => {
    const datadirs = await Promise.all([0, 1, 2, 3].map(() => makeDatadir()))
    dirs.push(...datadirs)
    const spec = presetJSON('ethereum-like')!
    spec.name = 'pos-test'
    if (spec.engine.type !== 'bft' || !spec.engine.staking) throw new Error('ethereum-like must be a PoS preset')
    spec.engine.staking.epochLength = EPOCH
    const genesisFile = join(datadirs[0], 'genesis.json')
    await writeFile(genesisFile, JSON.stringify(spec))

    const start = async (i: number, bootnodes: string[], extra: string[] = []) => {
      const keyFile = join(datadirs[i], 'validator.key')
      await writeFile(keyFile, bytesToHex(KEYS[i]), { mode: 0o600 })
      const node = await startNode({
        datadir: datadirs[i],
        chain: genesisFile,
        args: ['--p2p-port', '0', '--validator-key-file', keyFile, ...(bootnodes.length ? ['--bootnodes', bootnodes.join(',')] : []), ...extra],
      })
      running.add(node)
      return node
    }
    const v: NodeProcess[] = []
    v[0] = await start(0, [])
    const boot = v[0].info.p2p![0]
    v[1] = await start(1, [boot])
    v[2] = await start(2, [boot])
    v[3] = await start(3, [boot], ['--byzantine', 'double-vote'])
    const watch = new AgreementWatch(() => v).start()

    const offender = addressOf(3).toString().toLowerCase()
    const balance1Before = BigInt(await v[1].rpc<Hex>('eth_getBalance', [addressOf(1).toString(), '0x0']))

    // The double votes are caught and punished: 5% of 32 ETH burnt, jailed, out of the set.
    await waitFor('the offender to be slashed', async () => (await stakingView(v[0], encodeStakeOf(addressOf(3).bytes))) < 32n * ETHER || undefined, { timeoutMs: 90_000 })
    assert.equal(await stakingView(v[0], encodeStakeOf(addressOf(3).bytes)), 32n * ETHER - (32n * ETHER * 500n) / 10_000n)
    assert.equal(await stakingView(v[0], encodeIsJailed(addressOf(3).bytes)), 1n)
    await waitFor('the offender to leave the validator set', async () => !(await validatorsOf(v[0])).some((x) => x.address === offender) || undefined, { timeoutMs: 30_000 })
    // Slashed once, although it keeps double voting.
    const h0 = await height(v[0])
    await waitFor('more blocks without the offender', async () => (await height(v[0])) >= h0 + 3n, { timeoutMs: 60_000 })
    assert.equal(await stakingView(v[0], encodeStakeOf(addressOf(3).bytes)), 32n * ETHER - (32n * ETHER * 500n) / 10_000n)

    // Account 4 stakes 40 ETH with a transaction; it becomes a validator (power 40) at the next epoch boundary.
    const stakeTx = createFeeMarket1559Tx(
      { nonce: 0n, to: STAKING_ADDRESS, value: 40n * ETHER, data: encodeStake(), gasLimit: 300_000n, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, chainId: 1339n },
      { common },
    ).sign(KEYS[4])
    const hash = await v[1].rpc<Hex>('eth_sendRawTransaction', [bytesToHex(stakeTx.serialize())])
    const receipt = await waitFor('the stake tx', () => v[1].rpc<{ status: Hex; blockNumber: Hex } | null>('eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), { timeoutMs: 60_000 })
    assert.equal(receipt.status, '0x1')
    const newcomer = addressOf(4).toString().toLowerCase()
    assert.ok(!(await validatorsOf(v[0])).some((x) => x.address === newcomer), 'not before the epoch boundary')
    await waitFor('the staker to join the set', async () => (await validatorsOf(v[2])).find((x) => x.address === newcomer), { timeoutMs: 60_000 })
    const set = await validatorsOf(v[2])
    assert.equal(set.find((x) => x.address === newcomer)!.power, 40n)
    assert.equal(set.length, 4, 'three honest validators and the newcomer')
    const joinedAt = await height(v[2])
    const since = (joinedAt / BigInt(EPOCH)) * BigInt(EPOCH)
    assert.ok(BigInt(receipt.blockNumber) <= since, 'joined at the first epoch boundary after the stake')

    // The newcomer runs no node: the three honest validators hold 96 of 136 power, more than 2/3: finality continues.
    const h1 = await height(v[0])
    await waitFor('finality with the new set', async () => (await height(v[0])) >= h1 + 2n, { timeoutMs: 60_000 })

    // Validator 1 sent no tx: its balance grew by its rewards as a proposer and a voter.
    const balance1 = BigInt(await v[1].rpc<Hex>('eth_getBalance', [addressOf(1).toString(), 'latest']))
    assert.ok(balance1 > balance1Before, 'validator 1 earned rewards')
    await assertAgreement(v)
    const safety = await watch.stop()
    assert.deepEqual(safety.violations, [])
    assert.ok(safety.checks > 10, `the watch checked (${safety.checks} checks)`)
  })
})
