/**
 * Address groups (Bitcoin Core's netgroups, src/netgroup.cpp): addresses one operator is likely
 * to hold many of share a group, so limits per group cost a Sybil attacker address diversity,
 * not just addresses (Heilman et al. 2015, "Eclipse Attacks on Bitcoin's Peer-to-Peer
 * Network", countermeasure 1). An IPv4 address's group is its /16, an IPv6 address's its /32
 * (an IPv4-mapped IPv6 address counts as IPv4). Addresses that are not publicly routable
 * (loopback, private, link-local, CGNAT, unique local) have no group: a private network is its
 * operator's, and its nodes often share one /16, so group limits do not apply to them.
 * @module
 */

/** Groups of recent addresses: the gater asks for every open connection at each inbound one. */
const memo = new Map<string, string | undefined>()
const MEMO_MAX = 4096

/** The group of an IP address, or undefined for a non-routable (local or private) address. */
export function netGroup(ip: string): string | undefined {
  if (memo.has(ip)) return memo.get(ip)
  if (memo.size >= MEMO_MAX) memo.clear()
  const g = computeGroup(ip)
  memo.set(ip, g)
  return g
}

function computeGroup(ip: string): string | undefined {
  const v4 = parseIpv4(ip.startsWith('::ffff:') ? ip.slice(7) : ip)
  if (v4 !== undefined) return isRoutableIpv4(v4) ? `ip4:${v4[0]}.${v4[1]}` : undefined
  const v6 = parseIpv6(ip)
  if (v6 === undefined || !isRoutableIpv6(v6)) return undefined
  return `ip6:${v6[0]!.toString(16)}:${v6[1]!.toString(16)}`
}

function parseIpv4(ip: string): number[] | undefined {
  const parts = ip.split('.')
  if (parts.length !== 4) return undefined
  const out = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN))
  return out.every((n) => n >= 0 && n <= 255) ? out : undefined
}

function isRoutableIpv4([a, b]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127 || a! >= 224) return false
  if (a === 100 && b! >= 64 && b! <= 127) return false // CGNAT 100.64/10
  if (a === 169 && b === 254) return false
  if (a === 172 && b! >= 16 && b! <= 31) return false
  if (a === 192 && b === 168) return false
  return true
}

/** The eight 16-bit words of an IPv6 address, or undefined. */
function parseIpv6(ip: string): number[] | undefined {
  if (!ip.includes(':') || ip.includes('.')) return undefined
  const halves = ip.split('::')
  if (halves.length > 2) return undefined
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => (/^[0-9a-f]{1,4}$/i.test(w) ? parseInt(w, 16) : NaN)))
  const head = words(halves[0]!)
  const tail = halves.length === 2 ? words(halves[1]!) : []
  const fill = 8 - head.length - tail.length
  if ((halves.length === 1 && fill !== 0) || fill < 0) return undefined
  const out = [...head, ...new Array<number>(fill).fill(0), ...tail]
  return out.every((w) => Number.isInteger(w)) ? out : undefined
}

function isRoutableIpv6(w: number[]): boolean {
  if (w.every((x) => x === 0)) return false // ::
  if (w.slice(0, 7).every((x) => x === 0)) return false // ::1
  if ((w[0]! & 0xfe00) === 0xfc00) return false // unique local fc00::/7
  if ((w[0]! & 0xffc0) === 0xfe80) return false // link-local fe80::/10
  if ((w[0]! & 0xff00) === 0xff00) return false // multicast
  return true
}
