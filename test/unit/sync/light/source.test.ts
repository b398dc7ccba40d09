/**
 * A light client's source is hostile: an answer larger than the bound is cut off and refused,
 * a source that never answers times out, an answer that is not JSON-RPC is refused, and a
 * batch missing an answer fails; none of them is taken as a value.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { RpcSource, SourceError } from '../../../../src/sync/light/source.ts'

const servers: Server[] = []
after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))))

async function serve(handler: (body: string) => string | undefined): Promise<string> {
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const c of req) body += c
    const out = handler(body)
    if (out === undefined) return // never answers
    res.setHeader('content-type', 'application/json')
    res.end(out)
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

describe('light client sources are not trusted', () => {
  test('oversized, silent, malformed and incomplete answers are refused', async () => {
    const huge = await serve((b) => JSON.stringify((JSON.parse(b) as { id: number }[]).map((r) => ({ jsonrpc: '2.0', id: r.id, result: 'x'.repeat(200_000) }))))
    await assert.rejects(new RpcSource(huge, { maxAnswerBytes: 100_000 }).call('eth_blockNumber', []), (e: Error) => e instanceof SourceError && /over the 100000-byte limit/.test(e.message))
    const silent = await serve(() => undefined)
    await assert.rejects(new RpcSource(silent, { timeoutMs: 300 }).call('eth_blockNumber', []), /did not answer in time/)
    const junk = await serve(() => '<html>not json</html>')
    await assert.rejects(new RpcSource(junk).call('eth_blockNumber', []), /not JSON/)
    const short = await serve(() => '[]')
    await assert.rejects(new RpcSource(short).batch([['eth_blockNumber', []], ['eth_chainId', []]]), /gave no answer to eth_blockNumber/)
    const good = await serve((b) => JSON.stringify((JSON.parse(b) as { id: number }[]).map((r) => ({ jsonrpc: '2.0', id: r.id, result: '0x5' }))))
    assert.equal(await new RpcSource(good).call('eth_blockNumber', []), '0x5')
    assert.throws(() => new RpcSource('file:///etc/passwd'), /only http/)
  })
})
