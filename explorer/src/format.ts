/** Display formatting: amounts (exact, from decimal strings), hashes, ages, sizes. */

export const SYMBOL = 'ETH'

const group = (digits: string): string => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/** An integer amount with `decimals` as an exact decimal string ("1,234.5"). */
export function formatUnits(amount: string | bigint, decimals: number, maxFraction?: number): string {
  let v: bigint
  try {
    v = BigInt(amount)
  } catch {
    return String(amount)
  }
  const negative = v < 0n
  if (negative) v = -v
  const base = 10n ** BigInt(decimals)
  const whole = v / base
  let fraction = decimals > 0 ? (v % base).toString().padStart(decimals, '0') : ''
  if (maxFraction !== undefined && fraction.length > maxFraction) {
    // Rounded for tables; the exact value goes in a title.
    const cut = fraction.slice(0, maxFraction).replace(/0+$/, '')
    const approx = cut === '' && v > 0n && whole === 0n
    fraction = approx ? '' : cut
    if (approx) return `${negative ? '-' : ''}<0.${'0'.repeat(maxFraction - 1)}1`
  }
  fraction = fraction.replace(/0+$/, '')
  return `${negative ? '-' : ''}${group(whole.toString())}${fraction ? `.${fraction}` : ''}`
}

/** Wei as ether: "1.5 ETH" (exact unless maxFraction is given). */
export const formatEth = (wei: string | bigint, maxFraction?: number): string => `${formatUnits(wei, 18, maxFraction)} ${SYMBOL}`

/** Wei as gwei: "7.25 gwei". */
export const formatGwei = (wei: string | bigint | null | undefined, maxFraction = 4): string =>
  wei === null || wei === undefined ? '—' : `${formatUnits(wei, 9, maxFraction)} gwei`

/** Wei as a float number of gwei (charts). */
export const toGweiNumber = (wei: string | bigint): number => Number(BigInt(wei)) / 1e9

export const formatInt = (n: number | string | bigint | null | undefined): string => {
  if (n === null || n === undefined) return '—'
  try {
    return group(BigInt(n).toString())
  } catch {
    return String(n)
  }
}

export const formatNumber = (n: number | null | undefined, digits = 2): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits })

export const formatPercent = (share: number | null | undefined, digits = 1): string =>
  share === null || share === undefined || !Number.isFinite(share) ? '—' : `${(share * 100).toFixed(digits)}%`

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—'
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(2)} MiB`
}

/** "0x1234…abcd" */
export function shortHash(hash: string | null | undefined, head = 6, tail = 4): string {
  if (!hash) return '—'
  return hash.length <= head + tail + 1 ? hash : `${hash.slice(0, head)}…${hash.slice(-tail)}`
}

/** "5 s ago", "3 min ago", "2 h ago", "4 d ago" for a unix time in seconds. */
export function age(unixSeconds: number, nowMs = Date.now()): string {
  const s = Math.round(nowMs / 1000 - unixSeconds)
  if (s < 0) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86400)} d ago`
}

/** Local date and time (with seconds) for a unix time in seconds or milliseconds. */
export function dateTime(unix: number, unit: 's' | 'ms' = 's'): string {
  const d = new Date(unit === 's' ? unix * 1000 : unix)
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString('en-GB', { hour12: false })
}

export const formatSeconds = (s: number | null | undefined): string =>
  s === null || s === undefined || !Number.isFinite(s) ? '—' : s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`

/** Gas used as a share of the limit: "0.07%". */
export function gasShare(used: string, limit: string): string {
  const l = BigInt(limit)
  return `${l > 0n ? Number((BigInt(used) * 10000n) / l) / 100 : 0}%`
}

/** Gas used of limit, with the share: "21,000 / 30,000,000 (0.07%)". */
export const gasOf = (used: string, limit: string): string => `${formatInt(used)} / ${formatInt(limit)} (${gasShare(used, limit)})`

/** Fee paid: gas used × effective gas price, in ether. */
export function feeOf(gasUsed: string | null, price: string | null, maxFraction?: number): string {
  if (gasUsed === null || price === null) return '—'
  return formatEth(BigInt(gasUsed) * BigInt(price), maxFraction)
}

const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 })
const SMALL = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 })

/** Short axis labels: "1.1M", "550K", "0.875", "0.00012". */
export const compact = (v: number): string => (Math.abs(v) >= 1000 ? COMPACT.format(v) : v === 0 ? '0' : SMALL.format(v))
