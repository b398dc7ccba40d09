/** Keys, stake sets, addresses and error assertions for the PoH voting unit tests. */
import assert from 'node:assert/strict'
import { sha256 } from '../../../../src/crypto/hash.ts'
import { privateKeyToAddress } from '../../../../src/crypto/secp256k1.ts'
import { StakeSet } from '../../../../src/consensus/poh/stake-set.ts'

export const CHAIN_ID = 31n
const enc = new TextEncoder()

export function hash(label: string): Uint8Array {
  return sha256(enc.encode(label))
}

export function keys(n: number, label = 'poh voting'): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => hash(`${label} key ${i}`))
}

export function addressOf(key: Uint8Array): Uint8Array {
  return privateKeyToAddress(key)
}

/** A 20-byte address filled with one byte (readable in failures). */
export function addr(byte: number): Uint8Array {
  return new Uint8Array(20).fill(byte)
}

export function stakeSet(entries: Array<[Uint8Array, bigint]>): StakeSet {
  return StakeSet.from(entries.map(([address, stake]) => ({ address, stake })))
}

/** Asserts that fn throws an error of class `cls` with `code` and a human message. */
export function throwsCode(fn: () => unknown, cls: abstract new (...args: never[]) => Error, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`)
    assert.equal((err as Error & { code: string }).code, code, (err as Error).message)
    assert.ok((err as Error).message.length > 10, 'errors carry a human message')
    return true
  })
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
