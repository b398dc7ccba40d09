/**
 * Raw bytes to a transaction, with geth's error wording. The RLP is read once here and its
 * fields checked before ethereumjs builds the tx: ethereumjs would reject a wrong chain id,
 * a high s or a tip above the fee cap too, but with messages no client library recognises.
 * @module
 */
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import {
  create1559FeeMarketTxFromBytesArray,
  createAccessList2930TxFromBytesArray,
  createLegacyTxFromBytesArray,
} from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToBigInt } from '@ethereumjs/util'
import { decodeOnce } from '../execution/tx-sender.ts'
import { MempoolError } from './errors.ts'
import { checkEnvelope, checkSize, checkType } from './validate.ts'

type Fields = Array<Uint8Array | Fields>
type Build = (values: never, opts: { common: Common; freeze: boolean }) => TypedTransaction

/** Where each field sits in a type's RLP list. */
interface Layout {
  signed: number
  unsigned: number
  chainId?: number
  tipCap: number
  feeCap: number
  to: number
  data: number
  build: Build
}

const LAYOUTS: Record<number, Layout> = {
  // [nonce, gasPrice, gasLimit, to, value, data, v, r, s]
  0: { signed: 9, unsigned: 6, tipCap: 1, feeCap: 1, to: 3, data: 5, build: createLegacyTxFromBytesArray as Build },
  // [chainId, nonce, gasPrice, gasLimit, to, value, data, accessList, yParity, r, s]
  1: {
    signed: 11,
    unsigned: 8,
    chainId: 0,
    tipCap: 2,
    feeCap: 2,
    to: 4,
    data: 6,
    build: createAccessList2930TxFromBytesArray as Build,
  },
  // [chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList, yParity, r, s]
  2: {
    signed: 12,
    unsigned: 9,
    chainId: 0,
    tipCap: 2,
    feeCap: 3,
    to: 5,
    data: 7,
    build: create1559FeeMarketTxFromBytesArray as Build,
  },
}

const malformed = (detail: string) => new MempoolError('DECODE', `invalid transaction: ${detail}`)

function bytesAt(values: Fields, i: number): Uint8Array {
  const v = values[i]
  if (!(v instanceof Uint8Array)) throw malformed(`rlp: expected byte string for field ${i}`)
  return v
}

export interface DecodeContext {
  common: Common
  chainId: bigint
  maxTxBytes: number
}

/** Decodes a signed tx of a supported type for this chain, or throws a MempoolError. */
export function decodeTx(raw: Uint8Array, ctx: DecodeContext): TypedTransaction {
  if (raw.length === 0) throw malformed('rlp: empty input')
  const first = raw[0] as number
  // EIP-2718: a first byte below 0x80 is a type; 0xc0 and up opens a legacy tx's RLP list.
  const type = first < 0x80 ? first : 0
  if (first < 0x80) checkType(type)
  else if (first < 0xc0) throw malformed('rlp: expected input list for legacy transaction')
  checkSize(raw.length, ctx.maxTxBytes)

  let values: Fields
  try {
    const decoded = RLP.decode(type === 0 ? raw : raw.subarray(1)) as Uint8Array | Fields
    if (!Array.isArray(decoded)) throw new Error('expected input list')
    values = decoded
  } catch (err) {
    throw malformed(`rlp: ${(err as Error).message}`)
  }

  const layout = LAYOUTS[type] as Layout
  if (values.length === layout.unsigned) {
    throw new MempoolError('INVALID_SIGNATURE', 'invalid transaction v, r, s values')
  }
  if (values.length !== layout.signed) {
    throw malformed(`rlp: expected ${layout.signed} fields, got ${values.length}`)
  }
  const num = (i: number) => bytesToBigInt(bytesAt(values, i))
  const sig = layout.signed - 3
  checkEnvelope(
    {
      type,
      chainId: layout.chainId === undefined ? undefined : num(layout.chainId),
      v: num(sig),
      r: num(sig + 1),
      s: num(sig + 2),
      tipCap: num(layout.tipCap),
      feeCap: num(layout.feeCap),
      isCreate: bytesAt(values, layout.to).length === 0,
      dataLength: bytesAt(values, layout.data).length,
    },
    ctx.chainId,
  )

  try {
    return decodeOnce(raw, ctx.common.chainId(), () => layout.build(values as never, { common: ctx.common, freeze: false }))
  } catch (err) {
    throw malformed((err as Error).message)
  }
}
