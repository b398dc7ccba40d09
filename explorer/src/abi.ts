/**
 * Decodes event logs whose ABI the explorer knows: ERC-20 Transfer / Approval (and ERC-721's
 * Transfer, which shares the topic) plus every event of the Catena system contracts, whose
 * ABIs come from artifacts/contracts/*.json at build time.
 */
import { decodeEventLog, toEventSelector, type Abi, type AbiEvent } from 'viem'
import type { DecodedEvent, TxLog } from './api/types.ts'

/** System contract artifacts (only their `abi` export ends up in the bundle). */
const artifacts = import.meta.glob<Abi>('../../artifacts/contracts/*.json', { eager: true, import: 'abi' })

/** Where the system contracts live (src/contracts): shown by name on pages. */
export const SYSTEM_CONTRACTS: Record<string, string> = {
  '0x0000000000000000000000000000000000001000': 'Permissions',
  '0x0000000000000000000000000000000000001001': 'Staking',
}

const STANDARD_EVENTS: AbiEvent[] = [
  {
    type: 'event', name: 'Transfer', inputs: [
      { name: 'from', type: 'address', indexed: true },
      { name: 'to', type: 'address', indexed: true },
      { name: 'value', type: 'uint256', indexed: false },
    ],
  },
  {
    type: 'event', name: 'Approval', inputs: [
      { name: 'owner', type: 'address', indexed: true },
      { name: 'spender', type: 'address', indexed: true },
      { name: 'value', type: 'uint256', indexed: false },
    ],
  },
  // ERC-721: same topic as ERC-20 Transfer, all three arguments indexed.
  {
    type: 'event', name: 'Transfer', inputs: [
      { name: 'from', type: 'address', indexed: true },
      { name: 'to', type: 'address', indexed: true },
      { name: 'tokenId', type: 'uint256', indexed: true },
    ],
  },
]

/** topic0 -> candidate event ABIs (several share a topic). */
const byTopic = new Map<string, AbiEvent[]>()
function addEvent(ev: AbiEvent): void {
  const topic = toEventSelector(ev).toLowerCase()
  const list = byTopic.get(topic) ?? []
  list.push(ev)
  byTopic.set(topic, list)
}
for (const ev of STANDARD_EVENTS) addEvent(ev)
for (const abi of Object.values(artifacts)) {
  for (const item of abi ?? []) if (item.type === 'event' && !item.anonymous) addEvent(item)
}

export function systemContractName(address: string | null | undefined): string | undefined {
  return address ? SYSTEM_CONTRACTS[address.toLowerCase()] : undefined
}

/** The decoded event, from the node when it decoded it, else from the ABIs above. */
export function decodeLog(log: TxLog): DecodedEvent | undefined {
  if (log.decoded) return log.decoded
  const topic0 = log.topics[0]?.toLowerCase()
  if (!topic0) return undefined
  for (const ev of byTopic.get(topic0) ?? []) {
    try {
      const out = decodeEventLog({ abi: [ev], data: log.data as `0x${string}`, topics: log.topics as [`0x${string}`, ...`0x${string}`[]], strict: true })
      return { event: out.eventName ?? ev.name, args: (out.args ?? {}) as Record<string, unknown> }
    } catch {
      // Not this one (e.g. ERC-20 vs ERC-721 Transfer): try the next candidate.
    }
  }
  return undefined
}

/** The argument list of a decoded event as [name, value] pairs, values as display strings. */
export function eventArgs(ev: DecodedEvent): [string, string][] {
  const entries: [string, unknown][] = Array.isArray(ev.args) ? ev.args.map((v, i) => [String(i), v]) : Object.entries(ev.args)
  return entries.map(([k, v]) => [k, display(v)])
}

function display(v: unknown): string {
  if (typeof v === 'bigint') return v.toString()
  if (Array.isArray(v)) return `[${v.map(display).join(', ')}]`
  if (typeof v === 'object' && v !== null) return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))
  return String(v)
}
