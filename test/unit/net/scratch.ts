import '../../../src/net/polyfill.ts'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { gossipsub } from '@libp2p/gossipsub'
import * as lp from 'it-length-prefixed'

async function mk() {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub({ globalSignaturePolicy: 'StrictNoSign', allowPublishToZeroTopicPeers: true }) },
  })
}
const a = await mk(), b = await mk()
console.log(a.peerId.toString(), a.getMultiaddrs().map(String))
await b.handle('/echo/1', async (stream) => {
  for await (const msg of lp.decode(stream, { maxDataLength: 100 })) {
    stream.send(lp.encode.single(msg.subarray()))
    await stream.close()
    break
  }
})
a.addEventListener('peer:connect', (e) => console.log('a connect', e.detail.toString()))
b.addEventListener('peer:connect', (e) => console.log('b connect', e.detail.toString()))
const N = 2000
const t0 = performance.now()
for (let i = 0; i < N; i++) {
  const s = await a.dialProtocol(b.getMultiaddrs()[0]!, '/echo/1')
  s.send(lp.encode.single(new Uint8Array([1, 2, 3])))
  await s.close()
  for await (const m of lp.decode(s, { maxDataLength: 100 })) { if (i === 0) console.log('got', m.subarray()); break }
}
console.log('rtt/s', N / ((performance.now() - t0) / 1000), a.getConnections().length)
await a.stop(); await b.stop()
