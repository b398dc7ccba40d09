/** Keys, validator sets and signed messages for the BFT unit tests. */
import assert from 'node:assert/strict'
import { sha256 } from '../../../../src/crypto/hash.ts'
import { privateKeyToAddress } from '../../../../src/crypto/secp256k1.ts'
import {
  signProposal,
  signVote,
  ValidatorSet,
  type Hash,
  type SignedProposal,
  type SignedVote,
  type VoteType,
} from '../../../../src/consensus/bft/index.ts'

export const CHAIN_ID = 7n
const enc = new TextEncoder()

export function hash(label: string): Hash {
  return sha256(enc.encode(label))
}

export function keys(n: number, label = 'bft unit'): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => hash(`${label} key ${i}`))
}

export function addressOf(key: Uint8Array): Uint8Array {
  return privateKeyToAddress(key)
}

export function validatorSet(ks: Uint8Array[], powers?: bigint[]): ValidatorSet {
  return ValidatorSet.create(ks.map((k, i) => ({ address: addressOf(k), power: powers?.[i] ?? 1n })))
}

export function vote(key: Uint8Array, type: VoteType, height: bigint, round: number, blockHash: Hash | null, chainId = CHAIN_ID): SignedVote {
  return signVote({ type, height, round, blockHash, validator: addressOf(key) }, key, chainId)
}

export function proposal(key: Uint8Array, height: bigint, round: number, blockHash: Hash, polRound = -1, chainId = CHAIN_ID): SignedProposal {
  return signProposal({ height, round, blockHash, polRound, proposer: addressOf(key) }, key, chainId)
}

/** The key of the proposer of `round` in `set`. */
export function proposerKey(set: ValidatorSet, ks: Uint8Array[], round: number): Uint8Array {
  const want = Buffer.from(set.proposer(round).address).toString('hex')
  const k = ks.find((key) => Buffer.from(addressOf(key)).toString('hex') === want)
  assert.ok(k, 'proposer key not found')
  return k
}

/** Asserts that fn throws an error of class `cls` with `code`. */
export function throwsCode(fn: () => unknown, cls: abstract new (...args: never[]) => Error, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`)
    assert.equal((err as Error & { code: string }).code, code, (err as Error).message)
    assert.ok((err as Error).message.length > 10, 'errors carry a human message')
    return true
  })
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
