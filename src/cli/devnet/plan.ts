/**
 * Where each devnet node lives and how the others reach it, decided before any node starts:
 * its datadir (mode 0700), its P2P port, and its peer id (its node.key is created here if it
 * does not exist yet, so the id is known in advance). Every node is then given all the others
 * as bootnodes: the network comes back together whichever nodes restart, node 0 included or
 * not (with only node 0 as bootnode, a network that lost node 0 stayed apart).
 * @module
 */
import { chmod, mkdir } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'

export interface PlannedMember {
  index: number
  datadir: string
  p2pPort: number
  peerId: string
  /** The address the other nodes dial: /ip4/127.0.0.1/tcp/<port>/p2p/<peer id>. */
  p2p: string
}

/** Creates a private directory (0700), or narrows the mode of an existing one to it. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
}

/**
 * `count` distinct free TCP ports on 127.0.0.1, for `--p2p-port 0`: the kernel picks them,
 * then they are released for the nodes to bind a moment later.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', resolve)
      })
    }
    return servers.map((s) => (s.address() as { port: number }).port)
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  }
}

/** Plans `nodes` members under `root`: node i in <root>/node-i on port p2pPort + i (or a free port when p2pPort is 0). */
export async function planMembers(root: string, nodes: number, p2pPort: number): Promise<PlannedMember[]> {
  // Loaded here so other commands do not pay for loading libp2p.
  const { loadOrCreateNodeKey } = await import('../../net/index.ts')
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  await makePrivateDir(root)
  const ports = p2pPort === 0 ? await freePorts(nodes) : Array.from({ length: nodes }, (_, i) => p2pPort + i)
  const out: PlannedMember[] = []
  for (let index = 0; index < nodes; index++) {
    const datadir = join(root, `node-${index}`)
    await makePrivateDir(datadir)
    const { key } = await loadOrCreateNodeKey(datadir)
    const peerId = peerIdFromPrivateKey(key).toString()
    out.push({ index, datadir, p2pPort: ports[index]!, peerId, p2p: `/ip4/127.0.0.1/tcp/${ports[index]}/p2p/${peerId}` })
  }
  return out
}

/** The bootnodes of member `index`: every other member. */
export function bootnodesFor(plan: readonly PlannedMember[], index: number): string[] {
  return plan.filter((m) => m.index !== index).map((m) => m.p2p)
}
