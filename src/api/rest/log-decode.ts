/**
 * Best-effort decoding of well-known event logs for the explorer: ERC-20 / ERC-721 Transfer
 * and Approval, ApprovalForAll, and the events of Catena's system contracts (permissions and
 * staking) at their fixed addresses. Unknown logs stay undecoded; decoding never throws.
 * @module
 */
import { decodeEventLog, parseAbi, type Abi, type Hex } from 'viem'
import { PERMISSIONS_ABI, PERMISSIONS_ADDRESS, STAKING_ABI, STAKING_ADDRESS } from '../../contracts/index.ts'

export interface DecodedLog {
  event: string
  args: Record<string, unknown>
}

const ERC20 = parseAbi([
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
])
const ERC721 = parseAbi([
  'event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)',
  'event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId)',
  'event ApprovalForAll(address indexed owner, address indexed operator, bool approved)',
])
const SYSTEM: Record<string, Abi> = {
  [PERMISSIONS_ADDRESS.toLowerCase()]: PERMISSIONS_ABI as Abi,
  [STAKING_ADDRESS.toLowerCase()]: STAKING_ABI as Abi,
}

export function decodeLog(address: string, topics: readonly string[], data: string): DecodedLog | undefined {
  if (topics.length === 0) return undefined
  const system = SYSTEM[address.toLowerCase()]
  for (const abi of system ? [system] : [ERC20, ERC721]) {
    try {
      const d = decodeEventLog({ abi, topics: topics as [Hex, ...Hex[]], data: data as Hex, strict: true })
      if (!d.eventName) continue
      return { event: d.eventName, args: jsonArgs(d.args) }
    } catch {
      // not this ABI
    }
  }
  return undefined
}

/** viem's decoded args as JSON: bigints become decimal strings, positional args get their index. */
function jsonArgs(args: unknown): Record<string, unknown> {
  if (Array.isArray(args)) return Object.fromEntries(args.map((v, i) => [String(i), toJson(v)]))
  if (args && typeof args === 'object') return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, toJson(v)]))
  return {}
}

function toJson(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (Array.isArray(v)) return v.map(toJson)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]))
  return v
}
