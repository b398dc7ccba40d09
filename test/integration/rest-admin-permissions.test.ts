/**
 * POST /v1/admin/permissions on a running permissioned node (dev chain, automine, two
 * admins): the route needs the API key; takes only admin-signed governance calls to the
 * Permissions contract; refuses what the contract would refuse with its reason, before the
 * mempool; and a propose plus a second admin's vote through it change the allowlist on chain.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { PERMISSIONS_ADDRESS, ProposalKind, encodePropose, encodeVote } from '../../src/contracts/permissions.ts'
import { makeCommon } from '../../src/execution/index.ts'
import { KEYS, addressOf } from '../helpers/chain.ts'
import { makeDatadir, removeDatadir, startNode, waitFor, type NodeProcess } from '../helpers/node-process.ts'

const API_KEY = 'permissions-admin-key-0123456789'
const common = makeCommon(1337n)
const nonces = new Map<number, bigint>()

function signed(key: number, to: string, data: Uint8Array): string {
  const nonce = nonces.get(key) ?? 0n
  const tx = createFeeMarket1559Tx({ nonce, to: to as `0x${string}`, data, gasLimit: 500_000n, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, chainId: 1337n }, { common })
  return bytesToHex(tx.sign(KEYS[key]).serialize())
}
const used = (key: number) => nonces.set(key, (nonces.get(key) ?? 0n) + 1n)

describe('REST admin: permission changes', () => {
  let node: NodeProcess
  let dir: string
  const outsider = addressOf(7)

  before(async () => {
    dir = await makeDatadir()
    const spec = presetJSON('dev')!
    spec.permissions = { admins: [addressOf(0).toString(), addressOf(1).toString()], accounts: [] }
    const genesis = join(dir, 'genesis.json')
    await writeFile(genesis, JSON.stringify(spec))
    const keyFile = join(dir, 'api-keys.txt')
    await writeFile(keyFile, `${API_KEY}\n`, { mode: 0o600 })
    node = await startNode({ datadir: join(dir, 'node'), chain: genesis, args: ['--api-key-file', keyFile] })
  })
  after(async () => {
    await node?.kill()
    await removeDatadir(dir)
  })

  const post = async (body: unknown, key: string | null = API_KEY) => {
    const res = await fetch(`${node.rpcUrl}/v1/admin/permissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    })
    return { status: res.status, body: (await res.json()) as any }
  }
  const snapshot = () => node.rpc<{ accounts: string[] }>('catena_permissions')

  test('refused without the key, for other contracts, non-governance calls and non-admins', async () => {
    const propose = encodePropose({ kind: ProposalKind.AllowAccount, account: outsider.bytes })
    assert.equal((await post({ rawTransaction: signed(0, PERMISSIONS_ADDRESS, propose) }, null)).status, 401)
    assert.equal((await post({ rawTransaction: signed(0, PERMISSIONS_ADDRESS, propose) }, 'wrong-key-wrong-key-wrong')).status, 401)
    const elsewhere = await post({ rawTransaction: signed(0, '0x000000000000000000000000000000000000cafe', propose) })
    assert.equal(elsewhere.status, 400)
    assert.match(elsewhere.body.error.message, /must call the Permissions contract/)
    const notGovernance = await post({ rawTransaction: signed(0, PERMISSIONS_ADDRESS, hexToBytes('0x9711715a')) })
    assert.equal(notGovernance.status, 400)
    const byOutsider = await post({ rawTransaction: signed(7, PERMISSIONS_ADDRESS, propose) })
    assert.equal(byOutsider.status, 400)
    assert.match(byOutsider.body.error.message, /propose refused by the contract: .*admin/i)
    assert.equal((await post({ rawTransaction: '0x1234' })).status, 400)
    assert.equal((await post({ nope: 1 })).status, 400)
    assert.deepEqual((await snapshot()).accounts, [], 'nothing changed')
  })

  test('an admin proposes and the other votes through the route: the account is allowed on chain', async () => {
    const proposed = await post({ rawTransaction: signed(0, PERMISSIONS_ADDRESS, encodePropose({ kind: ProposalKind.AllowAccount, account: outsider.bytes })) })
    assert.equal(proposed.status, 202, JSON.stringify(proposed.body))
    used(0)
    assert.equal(proposed.body.action, 'propose')
    assert.equal(proposed.body.sender.toLowerCase(), addressOf(0).toString().toLowerCase())
    await waitFor('the proposal mined', () => node.rpc<object | null>('eth_getTransactionReceipt', [proposed.body.hash]).then((r) => r ?? undefined))
    const voted = await post({ rawTransaction: signed(1, PERMISSIONS_ADDRESS, encodeVote(1n)) })
    assert.equal(voted.status, 202, JSON.stringify(voted.body))
    used(1)
    assert.deepEqual(voted.body.args, ['1'])
    await waitFor('the allowlist to change', async () => ((await snapshot()).accounts.map((a) => a.toLowerCase()).includes(outsider.toString().toLowerCase()) ? true : undefined))
    // The executed proposal cannot be voted again: the contract's reason, nothing submitted.
    const again = await post({ rawTransaction: signed(0, PERMISSIONS_ADDRESS, encodeVote(1n)) })
    assert.equal(again.status, 400)
    assert.match(again.body.error.message, /vote refused by the contract/)
  })
})
