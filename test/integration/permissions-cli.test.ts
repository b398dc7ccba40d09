/**
 * `catena permissions` against a running node: a dev chain (automine) with a permissions
 * section, two admins (so a change needs both votes). show, propose, vote, and the refusals
 * (not an admin, already executed, malformed proposals) each with one clear line.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { presetJSON } from '../../src/chain/spec/presets.ts'
import { KEYS, addressOf } from '../helpers/chain.ts'
import { assertFails, catena } from '../helpers/cli.ts'
import { makeDatadir, removeDatadir, startNode, type NodeProcess } from '../helpers/node-process.ts'

describe('catena permissions', () => {
  let node: NodeProcess
  let dir: string
  let pw: string
  const admin0 = addressOf(0).toString()
  const admin1 = addressOf(1).toString()
  const outsider = addressOf(7).toString()

  before(async () => {
    dir = await makeDatadir()
    const spec = presetJSON('dev')!
    spec.permissions = { admins: [admin0, admin1], accounts: [] }
    const genesis = join(dir, 'genesis.json')
    await writeFile(genesis, JSON.stringify(spec))
    node = await startNode({ datadir: join(dir, 'node'), chain: genesis })
    pw = join(dir, 'pw.txt')
    await writeFile(pw, 'pw\n')
    for (const i of [0, 1, 7]) {
      const keyFile = join(dir, `key${i}.txt`)
      await writeFile(keyFile, bytesToHex(KEYS[i]))
      const r = await catena(['account', 'import', '--private-key-file', keyFile, '--datadir', join(dir, 'wallet'), '--password-file', pw])
      assert.equal(r.code, 0, r.stderr)
    }
  })
  after(async () => {
    await node?.kill()
    await removeDatadir(dir)
  })

  const tx = (args: string[], from: string) => catena([...args, '--from', from, '--rpc', node.rpcUrl, '--datadir', join(dir, 'wallet'), '--password-file', pw])

  test('show, propose, vote: the second admin vote executes the change', async () => {
    const shown = await catena(['permissions', 'show', '--rpc', node.rpcUrl])
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stdout, /admins \(2; a change needs 2 votes\)/)
    assert.match(shown.stdout, /accounts: only admins and 0 listed/)

    const proposed = await tx(['permissions', 'propose', 'allow-account', outsider], admin0)
    assert.equal(proposed.code, 0, proposed.stderr)
    assert.match(proposed.stdout, /proposal: +1 \(allow-account\)/)
    const open = JSON.parse((await catena(['permissions', 'show', '--rpc', node.rpcUrl, '--json'])).stdout)
    assert.deepEqual(open.openProposals.map((p: { id: number; votes: number }) => [p.id, p.votes]), [[1, 1]])

    // The outsider cannot send yet, nor vote.
    assertFails(await tx(['permissions', 'vote', '1'], outsider), /would refuse this: .*not an admin/i)
    const voted = await tx(['permissions', 'vote', '1'], admin1)
    assert.equal(voted.code, 0, voted.stderr)
    assert.match(voted.stdout, /executed: +proposal 1/)
    const after = JSON.parse((await catena(['permissions', 'show', '--rpc', node.rpcUrl, '--json'])).stdout)
    assert.deepEqual(after.accounts, [outsider.toLowerCase()])
    assert.deepEqual(after.openProposals, [])
    // Replaying the vote is refused before any tx is made.
    assertFails(await tx(['permissions', 'vote', '1'], admin0), /would refuse this: .*already executed/i)
  })

  test('malformed proposals are refused with one line', async () => {
    assertFails(await tx(['permissions', 'propose', 'make-king', outsider], admin0), /unknown proposal kind "make-king"/)
    assertFails(await tx(['permissions', 'propose', 'set-validator', outsider], admin0), /set-validator needs --power/)
    assertFails(await tx(['permissions', 'propose', 'allow-node', 'nope'], admin0), /"nope" is not a libp2p peer id/)
    assertFails(await tx(['permissions', 'propose', 'restrict-nodes', 'maybe'], admin0), /takes "on" or "off"/)
    assertFails(await tx(['permissions', 'vote', 'x1'], admin0), /proposal id must be a positive integer/)
  })
})
