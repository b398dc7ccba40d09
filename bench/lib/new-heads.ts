/**
 * A JSON-RPC `eth_subscribe('newHeads')` over WebSocket, for the followers of bench/lib: each
 * head is reported with its height and the time (performance.now()) its message arrived. A
 * subscription that fails (refused, closed, no answer in 5 s) only records why: the followers
 * poll as well, so they carry on without it.
 */
import WebSocket from 'ws'

export interface NewHeadsSubscription {
  /** Why heads do not come over the WebSocket (any more), if they do not. */
  readonly problem: string | undefined
  close(): void
}

/** Resolves once the node confirmed the subscription, or once it failed (see `problem`). */
export function subscribeNewHeads(wsUrl: string, onHead: (height: number, at: number) => void): Promise<NewHeadsSubscription> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl)
    let subscribed = false
    let closed = false
    let problem: string | undefined
    const sub: NewHeadsSubscription = {
      get problem() {
        return problem
      },
      close() {
        closed = true
        ws.removeAllListeners()
        ws.on('error', () => undefined)
        ws.close()
      },
    }
    // Before the subscription is confirmed a failure ends the wait; after it, polling carries on alone.
    const fail = (why: string) => {
      if (closed) return
      problem ??= subscribed ? `${why} during the run` : why
      resolve(sub)
    }
    ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] })))
    ws.on('message', (data) => {
      const now = performance.now()
      let msg: { id?: unknown; error?: { message?: unknown }; method?: unknown; params?: { result?: { number?: unknown } } }
      try {
        msg = JSON.parse(String(data)) as typeof msg
      } catch {
        return
      }
      if (msg.id === 1) {
        if (msg.error) fail(`eth_subscribe: ${String(msg.error.message)}`)
        else {
          subscribed = true
          resolve(sub)
        }
      } else if (msg.method === 'eth_subscription' && typeof msg.params?.result?.number === 'string' && /^0x[0-9a-fA-F]+$/.test(msg.params.result.number)) {
        onHead(Number(BigInt(msg.params.result.number)), now)
      }
    })
    ws.on('error', (err) => fail(err.message))
    ws.on('close', () => fail('closed'))
    setTimeout(() => subscribed || fail('no answer to eth_subscribe within 5 s'), 5000).unref()
  })
}
