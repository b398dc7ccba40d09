/**
 * Crypto throughput on this machine: secp256k1 sign and recover for the native binding and for
 * @noble/curves, and the RFC 6962 Merkle root of a 10,000-tx block. Prints one JSON line per
 * measurement as it finishes.
 *
 *   node --import tsx bench/crypto.ts [seconds per measurement, default 2]
 */
import { randomBytes } from 'node:crypto'
import {
  SECP256K1_BACKEND,
  SECP256K1_NATIVE_ERROR,
  merkleRoot,
  nativeSecp256k1,
  nobleSecp256k1,
} from '../src/crypto/index.ts'
import type { Secp256k1Backend } from '../src/crypto/index.ts'

const seconds = Number(process.argv[2] ?? 2)

/** Runs `op` until `seconds` have passed; returns operations per second. */
function measure(op: (i: number) => void): { ops: number; seconds: number; opsPerSec: number } {
  const start = performance.now()
  let ops = 0
  let elapsed = 0
  while (elapsed < seconds * 1000) {
    op(ops++)
    elapsed = performance.now() - start
  }
  return { ops, seconds: elapsed / 1000, opsPerSec: Math.round(ops / (elapsed / 1000)) }
}

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`)
}

// A pool of valid keys, digests and signatures, so generation is not measured.
const POOL = 256
const keys = Array.from({ length: POOL }, () => new Uint8Array(randomBytes(32)))
const digests = Array.from({ length: POOL }, () => new Uint8Array(randomBytes(32)))
const signatures = keys.map((k, i) => {
  const { r, s, recovery } = nobleSecp256k1.sign(digests[i]!, k)
  return { rs: new Uint8Array([...r, ...s]), recovery }
})

emit({ bench: 'secp256k1.backend', selected: SECP256K1_BACKEND, nativeError: SECP256K1_NATIVE_ERROR ?? null })

const backends: Secp256k1Backend[] = nativeSecp256k1 ? [nativeSecp256k1, nobleSecp256k1] : [nobleSecp256k1]
for (const b of backends) {
  const recover = measure((i) => {
    const j = i % POOL
    b.recover(digests[j]!, signatures[j]!.rs, signatures[j]!.recovery)
  })
  emit({ bench: 'secp256k1.recover', backend: b.name, ...recover })
  const sign = measure((i) => {
    const j = i % POOL
    b.sign(digests[j]!, keys[j]!)
  })
  emit({ bench: 'secp256k1.sign', backend: b.name, ...sign })
}

const txs = Array.from({ length: 10_000 }, () => new Uint8Array(randomBytes(120)))
const roots = measure(() => merkleRoot(txs))
emit({ bench: 'merkle.root', leaves: txs.length, leafBytes: 120, ...roots, leavesPerSec: roots.opsPerSec * txs.length })
