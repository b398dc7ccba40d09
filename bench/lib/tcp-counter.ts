/**
 * A TCP relay on 127.0.0.1 in front of a port that counts every byte both ways: what a client
 * downloads from a server (HTTP JSON-RPC or a libp2p connection alike) without touching either.
 */
import net from 'node:net'

export interface TcpCounter {
  port: number
  /** Bytes from the server to its clients. */
  readonly down: number
  /** Bytes from the clients to the server. */
  readonly up: number
  close(): Promise<void>
}

export async function countingRelay(targetPort: number): Promise<TcpCounter> {
  let down = 0
  let up = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.on('data', (d: Buffer) => (up += d.length))
    upstream.on('data', (d: Buffer) => (down += d.length))
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    get down() {
      return down
    },
    get up() {
      return up
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
