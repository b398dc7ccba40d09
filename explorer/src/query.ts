/** What a search box input is, by its shape alone (no network). */

export type Query =
  | { kind: 'height'; value: string }
  | { kind: 'address'; value: string }
  | { kind: 'hash'; value: string }
  | { kind: 'invalid'; reason: string }

export function classify(input: string): Query {
  const q = input.trim().replace(/,/g, '')
  if (q === '') return { kind: 'invalid', reason: 'Type a block height, block hash, transaction hash or address.' }
  if (/^\d+$/.test(q)) {
    return q.length > 15 ? { kind: 'invalid', reason: 'That block height is too large.' } : { kind: 'height', value: String(Number(q)) }
  }
  const hex = /^(0x)?[0-9a-f]+$/i.test(q) ? `0x${q.replace(/^0x/i, '')}` : undefined
  if (hex?.length === 42) return { kind: 'address', value: hex }
  if (hex?.length === 66) return { kind: 'hash', value: hex.toLowerCase() }
  return { kind: 'invalid', reason: `Not a block height, hash or address: "${q.length > 70 ? `${q.slice(0, 70)}…` : q}".` }
}
