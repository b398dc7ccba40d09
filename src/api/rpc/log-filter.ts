/**
 * Ethereum's log filter semantics, shared by eth_getLogs and `logs` subscriptions:
 * - address: the log's address is any of the listed ones (empty list = any address);
 * - topics: position-wise; null (or an empty list) at a position matches any topic there,
 *   a list matches any of its topics. As in geth, a filter with more topic positions than
 *   the log has topics does not match, even if the extra positions are wildcards.
 * Addresses and topics may be bytes or hex strings (any case) on either side.
 */
import { bytesToHex } from '@ethereumjs/util'

type HexOrBytes = Uint8Array | string

export interface LogLike {
  address: HexOrBytes
  topics: readonly HexOrBytes[]
}

export interface LogFilterCriteria {
  addresses?: readonly HexOrBytes[]
  topics?: readonly (readonly HexOrBytes[] | null)[]
}

/** A filter with its values lower-cased into sets, for matching many logs quickly. */
export interface CompiledLogFilter {
  readonly compiled: true
  /** null = any address. */
  readonly addresses: ReadonlySet<string> | null
  /** null at a position = any topic. */
  readonly topics: readonly (ReadonlySet<string> | null)[]
}

function norm(v: HexOrBytes): string {
  return typeof v === 'string' ? v.toLowerCase() : bytesToHex(v)
}

/** Pre-processes a filter; `matchesLogFilter` accepts the result as well as raw criteria. */
export function compileLogFilter(filter: LogFilterCriteria): CompiledLogFilter {
  const addresses = filter.addresses && filter.addresses.length > 0 ? new Set(filter.addresses.map(norm)) : null
  const topics = (filter.topics ?? []).map((position) =>
    position === null || position.length === 0 ? null : new Set(position.map(norm)),
  )
  return { compiled: true, addresses, topics }
}

/** Whether `log` passes `filter` (address and topics only; block ranges are the caller's). */
export function matchesLogFilter(log: LogLike, filter: LogFilterCriteria | CompiledLogFilter): boolean {
  const f = 'compiled' in filter ? filter : compileLogFilter(filter)
  if (f.addresses !== null && !f.addresses.has(norm(log.address))) return false
  if (f.topics.length > log.topics.length) return false
  for (let i = 0; i < f.topics.length; i++) {
    const wanted = f.topics[i]
    if (wanted !== null && wanted !== undefined && !wanted.has(norm(log.topics[i]!))) return false
  }
  return true
}
