/**
 * The devnet plan: private datadirs, ports, peer ids known before any node starts (from the
 * node.key each datadir keeps), and every node given all the others as bootnodes.
 */
import { mkdtemp, rm, stat, chmod, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { bootnodesFor, planMembers } from '../../../src/cli/devnet/plan.ts'
import { loadOrCreateNodeKey } from '../../../src/net/index.ts'

const dirs: string[] = []
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'catena-plan-'))
  dirs.push(d)
  return d
}
const mode = async (p: string) => (await stat(p)).mode & 0o777

test('fixed ports: node i on port + i, its peer id from its own node key, kept across runs', async () => {
  const root = join(await scratch(), 'devnet')
  const plan = await planMembers(root, 3, 30400)
  assert.deepEqual(plan.map((m) => m.p2pPort), [30400, 30401, 30402])
  assert.equal(await mode(root), 0o700)
  for (const m of plan) {
    assert.equal(m.datadir, join(root, `node-${m.index}`))
    assert.equal(await mode(m.datadir), 0o700)
    const { key, created } = await loadOrCreateNodeKey(m.datadir)
    assert.equal(created, false)
    assert.equal(peerIdFromPrivateKey(key).toString(), m.peerId)
    assert.equal(m.p2p, `/ip4/127.0.0.1/tcp/${m.p2pPort}/p2p/${m.peerId}`)
  }
  assert.equal(new Set(plan.map((m) => m.peerId)).size, 3)
  const again = await planMembers(root, 3, 30400)
  assert.deepEqual(again, plan, 'a second run plans the same identities')
})

test('every node has all the others as bootnodes', async () => {
  const plan = await planMembers(join(await scratch(), 'devnet'), 4, 30500)
  for (const m of plan) {
    const boot = bootnodesFor(plan, m.index)
    assert.equal(boot.length, 3)
    assert.ok(!boot.includes(m.p2p))
    assert.deepEqual(new Set(boot), new Set(plan.filter((o) => o !== m).map((o) => o.p2p)))
  }
  assert.deepEqual(bootnodesFor(plan.slice(0, 1), 0), [])
})

test('port 0: distinct free ports are chosen up front, so the others can be told them', async () => {
  const plan = await planMembers(join(await scratch(), 'devnet'), 4, 0)
  const ports = plan.map((m) => m.p2pPort)
  assert.equal(new Set(ports).size, 4)
  for (const p of ports) assert.ok(p > 0 && p < 65536)
})

test('an existing datadir open to others is narrowed to 0700', async () => {
  const root = join(await scratch(), 'devnet')
  await mkdir(join(root, 'node-0'), { recursive: true })
  await chmod(root, 0o755)
  await chmod(join(root, 'node-0'), 0o777)
  await planMembers(root, 1, 30600)
  assert.equal(await mode(root), 0o700)
  assert.equal(await mode(join(root, 'node-0')), 0o700)
})
