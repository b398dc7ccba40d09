/**
 * What the light-client integration tests share: the light clients and proxy servers a file
 * starts, stopped after it (with the node processes), and a JSON-RPC call that returns the
 * answer's result or error as it came.
 */
import { after } from 'node:test'
import type { Server } from 'node:http'
import type { RunningLightClient } from '../../src/sync/light/start.ts'
import { trackNodes } from './node-process.ts'

export interface LightTestSet extends ReturnType<typeof trackNodes> {
  lights: RunningLightClient[]
  servers: Server[]
  /** More things to stop after the file (libp2p hosts), before the node processes. */
  stoppers: Array<() => Promise<unknown>>
}

/** Tracks what a test file starts and stops it all after the file. */
export function lightTestSet(): LightTestSet {
  const set: LightTestSet = { ...trackNodes(), lights: [], servers: [], stoppers: [] }
  after(async () => {
    for (const l of set.lights) await l.stop()
    for (const stop of set.stoppers) await stop()
    for (const s of set.servers) await new Promise((r) => s.close(r))
    await set.cleanup()
  })
  return set
}

export async function lightRpc<T>(url: string, method: string, params: unknown[]): Promise<{ result?: T; error?: { message: string } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  return (await res.json()) as { result?: T; error?: { message: string } }
}
