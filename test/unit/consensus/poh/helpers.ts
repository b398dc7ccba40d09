/**
 * Independent references for the PoH tests: SHA-256 and the RFC 6962 tree written out with
 * node:crypto's createHash, not with the code under test, and a chain builder on top of them.
 */
import { createHash } from 'node:crypto'
import type { PohEntry } from '../../../../src/consensus/poh/index.ts'

export function sha(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** RFC 6962 2.1 Merkle Tree Hash, top-down with the split at the largest power of two below n. */
export function rfc6962Root(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha()
  if (leaves.length === 1) return sha(Uint8Array.of(0), leaves[0]!)
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return sha(Uint8Array.of(1), rfc6962Root(leaves.slice(0, k)), rfc6962Root(leaves.slice(k)))
}

/** The hash after an entry, by the definition, with the reference functions. */
export function refNext(prev: Uint8Array, numHashes: number, txHashes: Uint8Array[] = []): Uint8Array {
  let h = prev
  const plain = txHashes.length > 0 ? numHashes - 1 : numHashes
  for (let i = 0; i < plain; i++) h = sha(h)
  if (txHashes.length > 0) h = sha(h, rfc6962Root(txHashes))
  return h
}

export function bytes32(tag: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (tag * 31 + i * 7) & 0xff)
}

export interface Step {
  numHashes: number
  txs?: number
}

/** A chain of entries from `start` with the reference hash, one per step (tx hashes made up). */
export function buildChain(start: Uint8Array, steps: Step[]): PohEntry[] {
  let h = start
  let tag = 1000
  return steps.map((s) => {
    const txHashes = Array.from({ length: s.txs ?? 0 }, () => bytes32(tag++))
    h = refNext(h, s.numHashes, txHashes)
    return { numHashes: s.numHashes, hash: h, txHashes }
  })
}

/** A slot's layout: `ticks` ticks of `perTick` hashes, with a tx entry of `txs` txs taking `txHashes` hashes before every third tick. */
export function slotSteps(ticks: number, perTick: number, txs = 2, txHashes = 3): Step[] {
  const steps: Step[] = []
  for (let t = 0; t < ticks; t++) {
    if (t % 3 === 1) {
      steps.push({ numHashes: txHashes, txs })
      steps.push({ numHashes: perTick - txHashes })
    } else {
      steps.push({ numHashes: perTick })
    }
  }
  return steps
}

export async function until(cond: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
