/**
 * A JSON-RPC proxy to a real node that lets a test rewrite each answer (by method and params),
 * as a lying or hacked full node would: what the light-client tests put between a light
 * client and the node. Batches are rewritten call by call.
 */
import { createServer, type Server } from 'node:http'

export type Rewrite = (method: string, params: unknown[], result: unknown) => unknown

export async function lyingProxy(target: string, rewrite: Rewrite, servers: Server[]): Promise<string> {
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const forwarded = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const answer = (await forwarded.json()) as unknown
    const requests = JSON.parse(body) as unknown
    const fix = (one: { method: string; params: unknown[] }, a: { result?: unknown }) => ('result' in a ? { ...a, result: rewrite(one.method, one.params, a.result) } : a)
    const out = Array.isArray(requests)
      ? (answer as { result?: unknown }[]).map((a, i) => fix((requests as { method: string; params: unknown[] }[])[i]!, a))
      : fix(requests as { method: string; params: unknown[] }, answer as { result?: unknown })
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(out))
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}
