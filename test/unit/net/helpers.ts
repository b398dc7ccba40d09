/**
 * Helpers for network tests: networks on 127.0.0.1 with port 0 and a temporary datadir, their
 * log lines captured, and stopped (datadirs removed) when the test ends; waits on conditions
 * and events, never on fixed sleeps.
 */
import '../../../src/net/polyfill.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventEmitter } from 'node:events'
import type { TestContext } from 'node:test'
import type { RPC } from '@libp2p/gossipsub/message'
import type { PeerId } from '@libp2p/interface'
import pino from 'pino'
import { createNetwork, parsePeerId, type Network, type NetworkOptions } from '../../../src/net/index.ts'

export const GENESIS = new Uint8Array(32).fill(0x07)
export const OTHER_GENESIS = new Uint8Array(32).fill(0x01)
export const CHAIN_ID = 1337n

export interface TestNode {
  net: Network
  /** Log messages (the `msg` field) of this node, in order. */
  logs: string[]
  datadir: string
}

/** Builds and starts a network; it is stopped and its datadir removed when the test ends. */
export async function startNode(t: TestContext, opts: Partial<NetworkOptions> = {}, start = true): Promise<TestNode> {
  const datadir = opts.datadir ?? mkdtempSync(join(tmpdir(), 'catena-net-'))
  const logs: string[] = []
  const logger = pino(
    { level: process.env.NET_LOG ?? 'debug' },
    {
      write(line: string) {
        const rec = JSON.parse(line) as { msg?: string }
        if (rec.msg !== undefined) logs.push(rec.msg)
        if (process.env.NET_LOG !== undefined) process.stderr.write(line)
      },
    },
  )
  let height = 0n
  const net = await createNetwork({
    datadir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootnodes: [],
    chainId: CHAIN_ID,
    genesisHash: GENESIS,
    head: () => ({ height: height++, hash: new Uint8Array(32).fill(0x09) }),
    logger,
    ...opts,
    // Fast redials keep tests short; status refresh off unless a test wants it.
    limits: { redialMs: 200, statusRefreshMs: 0, statusTimeoutMs: 3000, ...opts.limits },
  })
  t.after(async () => {
    await net.stop()
    if (opts.datadir === undefined) rmSync(datadir, { recursive: true, force: true })
  })
  if (start) await net.start()
  return { net, logs, datadir }
}

/** Polls `cond` on each event-loop turn (no fixed sleep) until it holds or `timeoutMs` passes. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Resolves with the first `event` whose payload passes `filter`. */
export function nextEvent<T>(emitter: EventEmitter, event: string, filter: (v: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on)
      reject(new Error(`timed out waiting for event ${event}`))
    }, timeoutMs)
    const on = (v: T) => {
      if (!filter(v)) return
      clearTimeout(timer)
      emitter.off(event, on)
      resolve(v)
    }
    emitter.on(event, on)
  })
}

/** True when `a` reports `b` as a connected (handshaken) peer. */
export function isPeer(a: Network, b: Network): boolean {
  return a.peers().some((p) => p.peerId === b.peerId)
}

/** Waits until every pair of the given networks reports each other as peers. */
export async function waitConnected(pairs: Array<[Network, Network]>): Promise<void> {
  await waitFor(() => pairs.every(([a, b]) => isPeer(a, b) && isPeer(b, a)), 'peers to complete the handshake')
}

/**
 * Opens a stream from `from` to `to` on `protocol`, writes `bytes` as they are (no framing),
 * half-closes, and resolves with everything the other side sent back (or the stream error).
 */
export async function rawExchange(from: Network, to: Network, protocol: string, bytes: Uint8Array): Promise<Uint8Array | Error> {
  try {
    const stream = await from.libp2p.dialProtocol(parsePeerId(to.peerId), protocol, { signal: AbortSignal.timeout(5000) })
    stream.send(bytes)
    await stream.close()
    const chunks: Uint8Array[] = []
    for await (const chunk of stream) chunks.push(chunk.subarray())
    return new Uint8Array(Buffer.concat(chunks))
  } catch (err) {
    return err as Error
  }
}

/** What js-gossipsub's GossipSub class has beyond its public interface: its mesh, and the handler every decoded RPC frame goes through. */
export interface GossipsubInternals {
  getMeshPeers(topic: string): string[]
  handleReceivedRpc(from: PeerId, rpc: RPC): Promise<void>
}

export function gossipsubOf(net: Network): GossipsubInternals {
  return net.libp2p.services.pubsub as unknown as GossipsubInternals
}
