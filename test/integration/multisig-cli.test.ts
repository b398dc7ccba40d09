/**
 * `catena multisig` against a running dev node (automine): a 2-of-3 wallet created, funded and
 * spent through the CLI with three keystore accounts from the test mnemonic; refusals (too few
 * approvals, replay, revoked approval, a replaced owner) each with one clear line and nothing
 * sent; an owner replacement through a proposal, after which the new owner approves.
 * The tests run in order on one chain and wallet.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { getAddress } from 'viem'
import { KEYS, addressOf } from '../helpers/chain.ts'
import { assertFails, catena, type CliResult } from '../helpers/cli.ts'
import { makeDatadir, removeDatadir, startNode, type NodeProcess } from '../helpers/node-process.ts'

const ETH = 10n ** 18n
const RECIPIENT = '0x1111111111111111111111111111111111111111'

describe('catena multisig', () => {
  let node: NodeProcess
  let dir: string
  let pw: string
  let wallet: string
  // As the CLI prints them: EIP-55 checksummed.
  const [o0, o1, o2, o3] = [0, 1, 2, 3].map((i) => getAddress(addressOf(i).toString())) as [string, string, string, string]
  const outsider = getAddress(addressOf(7).toString())

  before(async () => {
    dir = await makeDatadir()
    node = await startNode({ datadir: join(dir, 'node') })
    pw = join(dir, 'pw.txt')
    await writeFile(pw, 'pw\n')
    await Promise.all(
      [0, 1, 2, 3, 7].map(async (i) => {
        const keyFile = join(dir, `key${i}.txt`)
        await writeFile(keyFile, bytesToHex(KEYS[i]!))
        const r = await catena(['account', 'import', '--private-key-file', keyFile, '--datadir', join(dir, 'wallet'), '--password-file', pw])
        assert.equal(r.code, 0, r.stderr)
      }),
    )
  })
  after(async () => {
    await node?.kill()
    if (dir) await removeDatadir(dir)
  })

  const withKeys = (args: string[], from: string) =>
    catena([...args, '--from', from, '--rpc', node.rpcUrl, '--datadir', join(dir, 'wallet'), '--password-file', pw])
  const ms = (args: string[], from: string) => withKeys(['multisig', ...args, '--wallet', wallet], from)
  const ok = (r: CliResult, what: string): CliResult => {
    assert.equal(r.code, 0, `${what} failed:\n${r.stderr}`)
    return r
  }
  const balance = async (a: string) => BigInt(await node.rpc<string>('eth_getBalance', [a, 'latest']))
  const nonce = async (a: string) => BigInt(await node.rpc<string>('eth_getTransactionCount', [a, 'latest']))
  const listJson = async (...extra: string[]) =>
    JSON.parse(ok(await catena(['multisig', 'list', '--wallet', wallet, '--rpc', node.rpcUrl, '--json', ...extra]), 'list').stdout) as {
      threshold: string
      owners: string[]
      proposals: Array<{ id: string; approvals: string; approvedBy: string[]; executed: boolean; action: string }>
    }
  const showJson = async () =>
    JSON.parse(ok(await catena(['multisig', 'show', '--wallet', wallet, '--rpc', node.rpcUrl, '--json']), 'show').stdout) as {
      owners: string[]
      threshold: string
      balance: string
      pending: number
    }

  test('create a 2-of-3 wallet, fund it, and spend only with two approvals, once', async () => {
    const created = ok(await withKeys(['multisig', 'create', '--owners', `${o0},${o1},${o2}`, '--threshold', '2', '--json'], o0), 'create')
    wallet = JSON.parse(created.stdout).wallet
    assert.match(wallet, /^0x[0-9a-fA-F]{40}$/)
    assert.notEqual(await node.rpc<string>('eth_getCode', [wallet, 'latest']), '0x')

    ok(await withKeys(['send', '--to', wallet, '--value', '5', '--wait'], o0), 'fund')
    const shown = await showJson()
    assert.deepEqual(shown.owners, [o0, o1, o2])
    assert.equal(shown.threshold, '2')
    assert.equal(BigInt(shown.balance), 5n * ETH)
    const text = ok(await catena(['multisig', 'show', '--wallet', wallet, '--rpc', node.rpcUrl]), 'show').stdout
    assert.match(text, /balance: +5 ETH/)
    assert.match(text, /threshold: 2 of 3 owners/)

    const proposed = ok(await ms(['propose', '--to', RECIPIENT, '--value', '1.5'], o0), 'propose')
    assert.match(proposed.stdout, /proposal: +0/)
    assert.match(proposed.stdout, /approvals: 1 of 2 on proposal 0/)
    assert.match(proposed.stdout, /action: +send 1\.5 ETH to 0x1111111111111111111111111111111111111111/)

    // One approval: refused before any tx, nothing sent.
    const nonceBefore = await nonce(o0)
    assertFails(await ms(['execute', '0'], o0), /execute refused: NotEnoughApprovals \(1 of 2\)/)
    assert.equal(await nonce(o0), nonceBefore, 'no transaction was sent')
    assert.equal(await balance(RECIPIENT), 0n)

    const open = await listJson()
    assert.deepEqual(
      open.proposals.map((p) => [p.id, p.approvals, p.approvedBy, p.executed]),
      [['0', '1', [o0], false]],
    )

    const approved = ok(await ms(['approve', '0'], o1), 'approve')
    assert.match(approved.stdout, /approvals: 2 of 2 on proposal 0 \(enough/)
    assert.equal(await balance(RECIPIENT), 0n, 'approval alone sends nothing')
    const listed = ok(await catena(['multisig', 'list', '--wallet', wallet, '--rpc', node.rpcUrl]), 'list').stdout
    assert.match(listed, /#0 +send 1\.5 ETH to .* approvals 2\/2 \(ready\) +by .*, /)

    // The third owner executes; the recipient is paid from the wallet.
    const executed = ok(await ms(['execute', '0'], o2), 'execute')
    assert.match(executed.stdout, /executed: +proposal 0/)
    assert.equal(await balance(RECIPIENT), 1_500_000_000_000_000_000n)
    assert.equal(await balance(wallet), 3_500_000_000_000_000_000n)

    // Replay is refused; nothing more is paid.
    assertFails(await ms(['execute', '0'], o1), /execute refused: AlreadyExecuted \(proposal 0 was already executed\)/)
    assert.equal(await balance(RECIPIENT), 1_500_000_000_000_000_000n)
    assert.deepEqual((await listJson()).proposals, [])
    assert.deepEqual(
      (await listJson('--all')).proposals.map((p) => [p.id, p.executed]),
      [['0', true]],
    )
  })

  test('a revoked approval no longer counts', async () => {
    assert.match(ok(await ms(['propose', '--to', RECIPIENT, '--value', '1'], o1), 'propose').stdout, /proposal: +1/)
    ok(await ms(['approve', '1'], o2), 'approve')
    const revoked = ok(await ms(['revoke', '1'], o2), 'revoke')
    assert.match(revoked.stdout, /approvals: 1 of 2 on proposal 1$/m)
    assertFails(await ms(['execute', '1'], o1), /execute refused: NotEnoughApprovals \(1 of 2\)/)
    assertFails(await ms(['revoke', '1'], o2), /revoke refused: NotApproved \(0x[0-9a-fA-F]{40} has not approved proposal 1\)/)
    assertFails(await ms(['approve', '1'], outsider), /approve refused: NotOwner \(0x[0-9a-fA-F]{40} is not an owner\)/)
    assert.equal(await balance(RECIPIENT), 1_500_000_000_000_000_000n)
  })

  test('an owner replaced through a proposal: the old one is out, the new one approves', async () => {
    const proposed = ok(await ms(['propose-owner', 'replace', o2, o3], o0), 'propose-owner')
    assert.match(proposed.stdout, /proposal: +2/)
    assert.match(proposed.stdout, new RegExp(`action: +replace owner ${o2} with ${o3}`))
    ok(await ms(['approve', '2'], o1), 'approve')
    const executed = ok(await ms(['execute', '2'], o0), 'execute')
    assert.match(executed.stdout, new RegExp(`owner removed: ${o2}`))
    assert.match(executed.stdout, new RegExp(`owner added: +${o3}`))
    assert.deepEqual((await showJson()).owners, [o0, o1, o3])

    // Proposal 1 still has o1's approval only; o2 can no longer help, o3 can.
    assertFails(await ms(['approve', '1'], o2), /approve refused: NotOwner/)
    assert.match(ok(await ms(['approve', '1'], o3), 'approve').stdout, /approvals: 2 of 2 on proposal 1/)
    ok(await ms(['execute', '1'], o3), 'execute')
    assert.equal(await balance(RECIPIENT), 2_500_000_000_000_000_000n)
  })

  test('--call encodes a call; bad input and the wrong address are refused with one line', async () => {
    const proposed = ok(await ms(['propose', '--to', wallet, '--call', 'changeThreshold(uint256)', '3'], o0), 'propose --call')
    assert.match(proposed.stdout, /action: +set the threshold to 3/)
    const open = await listJson()
    assert.deepEqual(
      open.proposals.map((p) => [p.id, p.action]),
      [['3', 'set the threshold to 3']],
    )

    // None of these sends anything, so they run four at a time.
    const nonceBefore = await nonce(o0)
    const refusals: Array<[() => Promise<CliResult>, RegExp]> = [
      [() => ms(['propose', '--to', RECIPIENT, '--call', 'transfer(address,uint256)', '0x12'], o0), /--call transfer takes 2 arguments, got 1/],
      [() => ms(['propose', '--to', RECIPIENT, '--call', 'set(uint8)', '300'], o0), /--call set: /],
      [() => ms(['propose', '--to', RECIPIENT, '--data', '0x', '--call', 'f()'], o0), /give --data or --call, not both/],
      [() => ms(['propose-owner', 'promote', o3], o0), /unknown owner change "promote"/],
      [() => ms(['execute', 'x'], o0), /proposal id must be a non-negative integer/],
      [() => withKeys(['multisig', 'approve', '0', '--wallet', RECIPIENT], o0), /there is no contract at 0x1111111111111111111111111111111111111111/],
      [() => withKeys(['multisig', 'create', '--owners', `${o0},${o0}`, '--threshold', '1'], o0), /create refused: OwnerExists \(0x[0-9a-fA-F]{40} is already an owner\)/],
      [() => withKeys(['multisig', 'create', '--owners', `${o0},${o1}`, '--threshold', '3'], o0), /create refused: InvalidThreshold \(threshold 3 with 2 owners/],
    ]
    for (let i = 0; i < refusals.length; i += 4) {
      const batch = refusals.slice(i, i + 4)
      const results = await Promise.all(batch.map(([run]) => run()))
      results.forEach((r, j) => assertFails(r, batch[j]![1]))
    }
    assert.equal(await nonce(o0), nonceBefore, 'no transaction was sent')
  })
})
