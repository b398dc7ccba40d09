/**
 * WebSocket JSON-RPC client for eth_subscribe (newHeads, newPendingTransactions) on the node's
 * port. One socket for the whole page; it reconnects with backoff and subscribes again, so
 * pages only say what they want to hear about.
 */

export type LiveStatus = 'connecting' | 'live' | 'offline'
export type SubscriptionKind = 'newHeads' | 'newPendingTransactions'
type Listener = (data: unknown) => void

const MAX_BACKOFF_MS = 15_000

function defaultUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${location.host}${import.meta.env.DEV ? '/rpc' : '/'}`
}

export class LiveClient {
  private socket: WebSocket | undefined
  private status: LiveStatus = 'offline'
  private nextId = 1
  private backoff = 500
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  /** kind -> listeners; a kind is subscribed on the node while it has listeners. */
  private readonly listeners = new Map<SubscriptionKind, Set<Listener>>()
  /** Server subscription id -> kind, for the current socket. */
  private readonly subs = new Map<string, SubscriptionKind>()
  /** Request id -> kind, for eth_subscribe calls awaiting their id. */
  private readonly pending = new Map<number, SubscriptionKind>()
  private readonly statusListeners = new Set<(s: LiveStatus) => void>()

  constructor(private readonly url: string = defaultUrl()) {}

  get state(): LiveStatus {
    return this.status
  }

  onStatus(fn: (s: LiveStatus) => void): () => void {
    this.statusListeners.add(fn)
    fn(this.status)
    return () => this.statusListeners.delete(fn)
  }

  /** Calls `fn` for every notification of `kind`; returns the function that stops it. */
  subscribe(kind: SubscriptionKind, fn: Listener): () => void {
    let set = this.listeners.get(kind)
    if (!set) {
      set = new Set()
      this.listeners.set(kind, set)
    }
    const first = set.size === 0
    set.add(fn)
    if (!this.socket) this.connect()
    else if (first && this.socket.readyState === WebSocket.OPEN) this.sendSubscribe(kind)
    return () => {
      set.delete(fn)
      if (set.size === 0) this.unsubscribeKind(kind)
    }
  }

  private setStatus(s: LiveStatus): void {
    if (s === this.status) return
    this.status = s
    for (const fn of this.statusListeners) fn(s)
  }

  private connect(): void {
    clearTimeout(this.reconnectTimer)
    this.setStatus('connecting')
    let socket: WebSocket
    try {
      socket = new WebSocket(this.url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.socket = socket
    this.subs.clear()
    this.pending.clear()
    socket.onopen = () => {
      this.backoff = 500
      this.setStatus('live')
      for (const [kind, set] of this.listeners) if (set.size > 0) this.sendSubscribe(kind)
    }
    socket.onmessage = (ev) => this.onMessage(String(ev.data))
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.socket = undefined
      this.setStatus('offline')
      this.scheduleReconnect()
    }
  }

  private scheduleReconnect(): void {
    const delay = this.backoff
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS)
    this.reconnectTimer = setTimeout(() => this.connect(), delay)
  }

  private sendSubscribe(kind: SubscriptionKind): void {
    const id = this.nextId++
    this.pending.set(id, kind)
    this.socket?.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'eth_subscribe', params: [kind] }))
  }

  private unsubscribeKind(kind: SubscriptionKind): void {
    for (const [subId, k] of this.subs) {
      if (k !== kind) continue
      this.subs.delete(subId)
      if (this.socket?.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method: 'eth_unsubscribe', params: [subId] }))
      }
    }
  }

  private onMessage(text: string): void {
    let msg: { id?: number; result?: unknown; error?: unknown; method?: string; params?: { subscription?: string; result?: unknown } }
    try {
      msg = JSON.parse(text)
    } catch {
      return
    }
    if (msg.method === 'eth_subscription' && msg.params?.subscription) {
      const kind = this.subs.get(msg.params.subscription)
      if (!kind) return
      for (const fn of this.listeners.get(kind) ?? []) {
        try {
          fn(msg.params.result)
        } catch (err) {
          console.error('live listener failed', err)
        }
      }
      return
    }
    if (typeof msg.id === 'number' && this.pending.has(msg.id)) {
      const kind = this.pending.get(msg.id)!
      this.pending.delete(msg.id)
      if (typeof msg.result !== 'string') return
      // Listeners may have left while the subscription was being set up, or come back and
      // asked for a second one: keep exactly one subscription per kind.
      const already = [...this.subs.values()].includes(kind)
      if ((this.listeners.get(kind)?.size ?? 0) === 0 || already) {
        this.socket?.send(JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method: 'eth_unsubscribe', params: [msg.result] }))
        return
      }
      this.subs.set(msg.result, kind)
    }
  }
}
