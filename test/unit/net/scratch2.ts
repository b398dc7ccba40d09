import '../../../src/net/polyfill.ts'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import * as lp from 'it-length-prefixed'

async function mk() {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  })
}
const a = await mk(), b = await mk()
await b.handle('/echo/1', async (stream) => {
  for await (const msg of lp.decode(stream, { maxDataLength: 100 })) {
    stream.send(lp.encode.single(msg.subarray()))
    await stream.close()
    break
  }
}, { maxInboundStreams: 1000 })
const conn = await a.dial(b.getMultiaddrs()[0]!)
async function one(phase: string) {
  let t = performance.now()
  const s = await conn.newStream('/echo/1', { maxOutboundStreams: 1000, negotiateFully: false } as any)
  const t1 = performance.now() - t
  s.send(lp.encode.single(new Uint8Array([1, 2, 3])))
  const closing = s.close()
  for await (const m of lp.decode(s, { maxDataLength: 100 })) { break }
  const t2 = performance.now() - t
  await closing
  return [t1, t2]
}
for (const mode of ['seq', 'par']) {
  const N = 1000
  const t0 = performance.now()
  let open = 0, full = 0
  if (mode === 'seq') for (let i = 0; i < N; i++) { const [x, y] = await one(mode); open += x; full += y }
  else await Promise.all(Array.from({ length: 16 }, async () => { for (let i = 0; i < N / 16; i++) await one(mode) }))
  console.log(mode, 'rtt/s', Math.round(N / ((performance.now() - t0) / 1000)), 'avg open ms', open / N, 'avg full', full / N)
}
await a.stop(); await b.stop()
