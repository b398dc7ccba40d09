/**
 * eth_subscribe fan-out. Connections (WebSocket sessions) register subscriptions here; the
 * node publishes new heads, logs and pending transaction hashes, and the hub sends each
 * subscriber an `eth_subscription` notification:
 *   {"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":id,"result":...}}
 *
 * Kinds: 'newHeads', 'logs' (optional {address, topics, fromBlock, toBlock} filter, as geth),
 * 'newPendingTransactions' (hashes). A sink that throws is dropped with its connection's subscriptions so one broken
 * socket never stops publishing to the others; slow sockets are the sink's business (the
 * server's sink closes a socket whose send buffer grows past a limit).
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { invalidParams, limitExceeded } from './errors.ts'
import { compileLogFilter, matchesLogFilter, type CompiledLogFilter } from './log-filter.ts'
import { parseAddressFilter, parseBlockNumberOrTag, parseTopicsFilter } from './params.ts'

export type SubscriptionKind = 'newHeads' | 'logs' | 'newPendingTransactions'

/** Where a connection's notifications go. `send` gets one complete JSON text message. */
export interface SubscriptionSink {
  readonly connectionId: string
  send(message: string): void
}

/** A log as eth_getLogs returns it (address, topics, data, blockNumber, logIndex, removed...). */
export interface LogJson {
  address: string
  topics: readonly string[]
  [field: string]: unknown
}

export interface SubscriptionHubOptions {
  /** Subscriptions one connection may hold (default 100). */
  maxPerConnection?: number
  logger?: Logger
}

interface Subscription {
  id: string
  kind: SubscriptionKind
  sink: SubscriptionSink
  /** Only for 'logs'. */
  filter?: LogsFilter
  /** Message prefix up to `"result":`, so publishing only appends the result. */
  prefix: string
}

/** A logs subscription's filter: address/topics plus an optional block range, as in geth. */
interface LogsFilter extends CompiledLogFilter {
  fromBlock?: bigint
  toBlock?: bigint
}

/**
 * geth accepts fromBlock/toBlock on a logs subscription and applies them to the logs of new
 * blocks: 'latest' (or absent) is open-ended, 'earliest' is 0, numbers bound the range.
 */
function blockRange(from: unknown, to: unknown): { fromBlock?: bigint; toBlock?: bigint } {
  const bound = (v: unknown, name: string): bigint | undefined => {
    if (v === undefined) return undefined
    const b = parseBlockNumberOrTag(v, `filter.${name}`)
    if ('number' in b) return b.number
    if (b.tag === 'latest') return undefined
    if (b.tag === 'earliest') return 0n
    throw invalidParams(`invalid filter.${name}: a logs subscription takes a block number, "earliest" or "latest", not "${b.tag}"`)
  }
  const range: { fromBlock?: bigint; toBlock?: bigint } = {}
  const fromBlock = bound(from, 'fromBlock')
  const toBlock = bound(to, 'toBlock')
  if (fromBlock !== undefined) range.fromBlock = fromBlock
  if (toBlock !== undefined) range.toBlock = toBlock
  if (fromBlock !== undefined && toBlock !== undefined && toBlock < fromBlock) {
    throw invalidParams('invalid logs filter: toBlock is before fromBlock')
  }
  return range
}

function matchesLogsSubscription(log: LogJson, f: LogsFilter): boolean {
  if (f.fromBlock !== undefined || f.toBlock !== undefined) {
    const n = blockNumberOf(log)
    if (n === undefined) return false
    if (f.fromBlock !== undefined && n < f.fromBlock) return false
    if (f.toBlock !== undefined && n > f.toBlock) return false
  }
  return matchesLogFilter(log, f)
}

function blockNumberOf(log: LogJson): bigint | undefined {
  const v = log.blockNumber
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(v)) return undefined
  return BigInt(v)
}

function isLogShaped(log: unknown): log is LogJson {
  if (typeof log !== 'object' || log === null) return false
  const l = log as Partial<LogJson>
  return typeof l.address === 'string' && Array.isArray(l.topics) && l.topics.every((t) => typeof t === 'string')
}

const KINDS: ReadonlySet<string> = new Set(['newHeads', 'logs', 'newPendingTransactions'])
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 100

export class SubscriptionHub {
  private readonly subs = new Map<string, Subscription>()
  private readonly byConnection = new Map<string, Set<string>>()
  private readonly maxPerConnection: number
  private readonly logger: Logger | undefined

  constructor(opts: SubscriptionHubOptions = {}) {
    this.maxPerConnection = opts.maxPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION
    this.logger = opts.logger
  }

  /**
   * Registers a subscription for `sink`'s connection and returns its id (0x + 32 hex digits).
   * `kind` and `params` are the raw eth_subscribe parameters. Throws -32602 for an unknown
   * kind or bad filter, -32005 when the connection already holds the maximum.
   */
  subscribe(sink: SubscriptionSink, kind: unknown, params?: unknown): string {
    if (typeof kind !== 'string' || !KINDS.has(kind)) {
      const shown = typeof kind === 'string' ? JSON.stringify(kind.slice(0, 64)) : typeof kind
      throw invalidParams(`unknown subscription kind ${shown}; supported: newHeads, logs, newPendingTransactions`)
    }
    const filter = this.parseParams(kind as SubscriptionKind, params)
    const ids = this.byConnection.get(sink.connectionId) ?? new Set<string>()
    if (ids.size >= this.maxPerConnection) {
      throw limitExceeded(`too many subscriptions on this connection (limit ${this.maxPerConnection})`)
    }
    let id: string
    do id = `0x${randomBytes(16).toString('hex')}`
    while (this.subs.has(id))
    const prefix = `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"${id}","result":`
    const sub: Subscription = { id, kind: kind as SubscriptionKind, sink, prefix }
    if (filter) sub.filter = filter
    this.subs.set(id, sub)
    ids.add(id)
    this.byConnection.set(sink.connectionId, ids)
    return id
  }

  private parseParams(kind: SubscriptionKind, params: unknown): LogsFilter | undefined {
    if (kind === 'newPendingTransactions') {
      // geth takes an optional fullTx flag; Catena publishes hashes only.
      if (params !== undefined && params !== null && params !== false) {
        throw invalidParams('invalid newPendingTransactions parameter: only transaction hashes are supported')
      }
      return undefined
    }
    if (kind === 'newHeads') {
      if (params !== undefined && params !== null) throw invalidParams('newHeads takes no parameters')
      return undefined
    }
    if (params === undefined || params === null) return compileLogFilter({})
    if (typeof params !== 'object' || Array.isArray(params)) {
      throw invalidParams('invalid logs filter: expected an object with address and/or topics')
    }
    const p = params as Record<string, unknown>
    const get = (key: string): unknown => (Object.hasOwn(p, key) && p[key] !== null ? p[key] : undefined)
    if (get('blockHash') !== undefined) {
      throw invalidParams('invalid logs filter: a logs subscription follows new blocks and takes no blockHash')
    }
    return {
      ...compileLogFilter({
        addresses: parseAddressFilter(get('address'), 'filter.address'),
        topics: parseTopicsFilter(get('topics'), 'filter.topics'),
      }),
      ...blockRange(get('fromBlock'), get('toBlock')),
    }
  }

  /**
   * Removes a subscription. With `connectionId`, only that connection's own subscription is
   * removed (a client cannot cancel another client's). Returns whether one was removed.
   */
  unsubscribe(id: string, connectionId?: string): boolean {
    const sub = this.subs.get(id)
    if (!sub || (connectionId !== undefined && sub.sink.connectionId !== connectionId)) return false
    this.subs.delete(id)
    const ids = this.byConnection.get(sub.sink.connectionId)
    ids?.delete(id)
    if (ids && ids.size === 0) this.byConnection.delete(sub.sink.connectionId)
    return true
  }

  /** Drops every subscription of a connection (on close). Returns how many were removed. */
  removeConnection(connectionId: string): number {
    const ids = this.byConnection.get(connectionId)
    if (!ids) return 0
    for (const id of ids) this.subs.delete(id)
    this.byConnection.delete(connectionId)
    return ids.size
  }

  /** Number of live subscriptions, in total or for one connection. */
  count(connectionId?: string): number {
    if (connectionId === undefined) return this.subs.size
    return this.byConnection.get(connectionId)?.size ?? 0
  }

  /** Sends a new canonical head (the eth_getBlockByNumber header JSON) to 'newHeads'. */
  publishNewHead(head: unknown): void {
    this.publish('newHeads', head)
  }

  /** Sends each log to every 'logs' subscription whose filter it matches, one message per log. */
  publishLogs(logs: readonly LogJson[]): void {
    if (logs.length === 0) return
    const subs = this.snapshot('logs')
    if (subs.length === 0) return
    // Each log is checked and encoded once, however many subscriptions receive it.
    const valid = logs.filter(isLogShaped)
    if (valid.length < logs.length) this.logger?.error({ dropped: logs.length - valid.length }, 'publishLogs got malformed logs')
    const texts = new Map<LogJson, string | null>()
    const textOf = (log: LogJson): string | null => {
      let text = texts.get(log)
      if (text === undefined) texts.set(log, (text = this.encode(log, 'log')))
      return text
    }
    for (const sub of subs) {
      for (const log of valid) {
        if (sub.filter && !matchesLogsSubscription(log, sub.filter)) continue
        const text = textOf(log)
        if (text !== null && !this.deliver(sub, text)) break
      }
    }
  }

  /** Sends a pending transaction hash (0x-hex) to 'newPendingTransactions'. */
  publishPendingTransaction(hashHex: string): void {
    this.publish('newPendingTransactions', hashHex)
  }

  private publish(kind: SubscriptionKind, result: unknown): void {
    const subs = this.snapshot(kind)
    if (subs.length === 0) return
    const text = this.encode(result, kind)
    if (text === null) return
    for (const sub of subs) this.deliver(sub, text)
  }

  // A value that cannot be JSON-encoded (a bigint, a cycle) is a bug in the publisher: log
  // it and skip rather than throw into the node's block import path.
  private encode(value: unknown, what: string): string | null {
    try {
      const text = JSON.stringify(value)
      if (text !== undefined) return text
    } catch (err) {
      this.logger?.error({ err, what }, 'subscription payload is not JSON-encodable; not sent')
      return null
    }
    this.logger?.error({ what }, 'subscription payload is undefined; not sent')
    return null
  }

  // A copy, so sinks that unsubscribe or fail while we iterate do not disturb the loop.
  private snapshot(kind: SubscriptionKind): Subscription[] {
    const out: Subscription[] = []
    for (const sub of this.subs.values()) if (sub.kind === kind) out.push(sub)
    return out
  }

  /** Returns false if the sink failed (its connection's subscriptions are then dropped). */
  private deliver(sub: Subscription, resultJson: string): boolean {
    if (!this.subs.has(sub.id)) return false
    try {
      sub.sink.send(`${sub.prefix}${resultJson}}}`)
      return true
    } catch (err) {
      this.logger?.warn({ err, connectionId: sub.sink.connectionId }, 'subscription sink failed; dropping its subscriptions')
      this.removeConnection(sub.sink.connectionId)
      return false
    }
  }
}
