/**
 * Shared fixtures for the mempool tests: real signed txs from the dev-tool mnemonic's keys, an
 * in-memory account map, and a snapshot of the pool to check that rejections change nothing.
 */
import assert from 'node:assert/strict'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes, createAddressFromPrivateKey } from '@ethereumjs/util'
import type { Address, PrefixedHexString } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { makeCommon } from '../../../src/execution/common.ts'
import { Mempool, MempoolError } from '../../../src/mempool/index.ts'
import type { AccountState, MempoolErrorCode, MempoolOptions, PoolLimits } from '../../../src/mempool/index.ts'
import { TEST_MNEMONIC, deriveKeys } from '../../../src/wallet/hd.ts'

export const CHAIN_ID = 1337n
export const common = makeCommon(CHAIN_ID)
export const KEYS = deriveKeys(TEST_MNEMONIC, 12).map((k) => k.privateKey)
export const ADDRS = KEYS.map((k) => createAddressFromPrivateKey(k))
export const TO: PrefixedHexString = `0x${'42'.repeat(20)}`
export const GWEI = 10n ** 9n
export const RICH = 10n ** 24n

export class State {
  private readonly accounts = new Map<string, AccountState>()
  set(addr: Address, nonce: bigint, balance: bigint = RICH): void {
    this.accounts.set(addr.toString(), { nonce, balance })
  }
  getAccount = async (addr: Address): Promise<AccountState> => {
    const a = this.accounts.get(addr.toString()) ?? { nonce: 0n, balance: 0n }
    return { ...a }
  }
}

export const DEFAULT_LIMITS: PoolLimits = {
  minGasPrice: 1n,
  baseFee: 0n,
  blockGasLimit: 30_000_000n,
  maxTxBytes: 128 * 1024,
}

export function makePool(
  opts: Partial<Omit<MempoolOptions, 'limits'>> & { limits?: Partial<PoolLimits> } = {},
): { pool: Mempool; state: State; limits: PoolLimits } {
  const state = new State()
  for (const a of ADDRS) state.set(a, 0n)
  const limits = { ...DEFAULT_LIMITS, ...opts.limits }
  const pool = new Mempool({
    common,
    chainId: CHAIN_ID,
    getAccount: state.getAccount,
    ...opts,
    limits: () => limits,
  })
  return { pool, state, limits }
}

export interface TxParams {
  nonce?: bigint
  gasLimit?: bigint
  value?: bigint
  /** Recipient; '' for a contract creation. */
  to?: PrefixedHexString | ''
  data?: Uint8Array
}

/** An EIP-1559 tx; `tip` defaults to `feeCap`. */
export function tx1559(
  key: Uint8Array,
  p: TxParams & { feeCap?: bigint; tip?: bigint },
  c: Common = common,
): TypedTransaction {
  const feeCap = p.feeCap ?? 10n
  return createFeeMarket1559Tx(
    {
      nonce: p.nonce ?? 0n,
      maxFeePerGas: feeCap,
      maxPriorityFeePerGas: p.tip ?? feeCap,
      gasLimit: p.gasLimit ?? 21000n,
      to: p.to === undefined ? TO : p.to === '' ? undefined : p.to,
      value: p.value ?? 0n,
      data: p.data,
    },
    { common: c },
  ).sign(key)
}

export function txLegacy(key: Uint8Array, p: TxParams & { gasPrice?: bigint }, c: Common = common): TypedTransaction {
  return createLegacyTx(
    {
      nonce: p.nonce ?? 0n,
      gasPrice: p.gasPrice ?? 10n,
      gasLimit: p.gasLimit ?? 21000n,
      to: p.to ?? TO,
      value: p.value ?? 0n,
      data: p.data,
    },
    { common: c },
  ).sign(key)
}

export function tx2930(key: Uint8Array, p: TxParams & { gasPrice?: bigint }, c: Common = common): TypedTransaction {
  return createAccessList2930Tx(
    {
      nonce: p.nonce ?? 0n,
      gasPrice: p.gasPrice ?? 10n,
      gasLimit: p.gasLimit ?? 30000n,
      to: p.to ?? TO,
      value: p.value ?? 0n,
      data: p.data,
      accessList: [{ address: TO, storageKeys: [`0x${'00'.repeat(31)}01`] }],
    },
    { common: c },
  ).sign(key)
}

/** A legacy tx signed the pre-EIP-155 way (v = 27/28, valid on every chain). */
export function txUnprotected(key: Uint8Array, nonce = 0n): TypedTransaction {
  const homestead = new Common({ chain: Mainnet, hardfork: Hardfork.Homestead })
  return txLegacy(key, { nonce }, homestead)
}

/**
 * Hand-signs EIP-1559 fields that ethereumjs refuses to build (tip above fee cap, high s):
 * 0x02 || rlp([chainId, nonce, tip, feeCap, gas, to, value, data, accessList, yParity, r, s]).
 */
export function raw1559(
  key: Uint8Array,
  f: { chainId?: bigint; nonce?: bigint; tip: bigint; feeCap: bigint; gasLimit?: bigint },
  mangle: (sig: { yParity: bigint; r: bigint; s: bigint }) => { yParity: bigint; r: bigint; s: bigint } = (s) => s,
): Uint8Array {
  const b = bigIntToUnpaddedBytes
  const body = [
    b(f.chainId ?? CHAIN_ID),
    b(f.nonce ?? 0n),
    b(f.tip),
    b(f.feeCap),
    b(f.gasLimit ?? 21000n),
    hexBytes(TO),
    b(0n),
    new Uint8Array(),
    [],
  ]
  const digest = keccak_256(concat(new Uint8Array([2]), RLP.encode(body)))
  const sig = secp256k1.Signature.fromBytes(
    secp256k1.sign(digest, key, { prehash: false, format: 'recovered' }),
    'recovered',
  )
  const m = mangle({ yParity: BigInt(sig.recovery ?? 0), r: sig.r, s: sig.s })
  return concat(new Uint8Array([2]), RLP.encode([...body, b(m.yParity), b(m.r), b(m.s)]))
}

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/^0x/, ''), 'hex'))
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts))
}

/** Everything observable about the pool, for "a rejection changed nothing" checks. */
export function snapshot(pool: Mempool): unknown {
  const content = pool.content()
  const flat = (m: Record<string, Record<string, { hashHex: string }>>) =>
    Object.fromEntries(
      Object.entries(m).map(([a, byNonce]) => [
        a,
        Object.fromEntries(Object.entries(byNonce).map(([n, e]) => [n, e.hashHex])),
      ]),
    )
  return {
    size: pool.size,
    pending: pool.pendingCount,
    queued: pool.queuedCount,
    content: { pending: flat(content.pending), queued: flat(content.queued) },
    order: [...pool.executable(0n)].map((e) => e.hashHex),
  }
}

/** Asserts `attempt` is refused with `code` and a message matching `message`, leaving the pool as it was. */
export async function expectRejected(
  pool: Mempool,
  attempt: () => Promise<unknown>,
  code: MempoolErrorCode,
  message: RegExp | string,
): Promise<MempoolError> {
  const before = snapshot(pool)
  const events: string[] = []
  const listener = (name: string) => () => events.push(name)
  const onAdded = listener('added')
  const onRemoved = listener('removed')
  const onPromoted = listener('promoted')
  pool.on('added', onAdded).on('removed', onRemoved).on('promoted', onPromoted)
  let caught: unknown
  try {
    await attempt()
  } catch (err) {
    caught = err
  } finally {
    pool.off('added', onAdded).off('removed', onRemoved).off('promoted', onPromoted)
  }
  assert.ok(caught instanceof MempoolError, `expected a MempoolError, got ${String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  if (typeof message === 'string') assert.equal(caught.message, message)
  else assert.match(caught.message, message)
  assert.deepEqual(snapshot(pool), before, 'a rejected tx must change nothing')
  assert.deepEqual(events, [], 'a rejected tx must emit nothing')
  return caught
}

/** Deterministic PRNG (mulberry32) for the randomized tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
