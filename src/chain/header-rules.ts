/**
 * The chain's rules for a header alone, against its parent and the chain spec (any engine):
 * shape, height, time (not before the parent, not too far ahead of `now`), the spec's gas
 * limit and the base fee the parent implies. The importer runs them before a block's seal and
 * body; a light client runs them on every header it is given.
 * @module
 */
import { checkHeaderShape, type BlockHeader } from './block.ts'
import { nextBaseFee } from './basefee.ts'
import { BlockError } from './errors.ts'
import { paramsAt, type ChainSpec } from './spec/index.ts'

export function checkHeaderSanity(h: BlockHeader, parent: BlockHeader, spec: ChainSpec, time: { now: bigint; maxFutureSeconds: bigint | undefined }): void {
  checkHeaderShape(h)
  if (h.height !== parent.height + 1n) throw new BlockError('BAD_HEIGHT', `height ${h.height} does not follow parent height ${parent.height}`)
  if (h.timestamp < parent.timestamp) throw new BlockError('TIME_TOO_OLD', `timestamp ${h.timestamp} is before the parent's ${parent.timestamp}`)
  const drift = time.maxFutureSeconds
  if (drift !== undefined && h.timestamp > time.now + drift) {
    throw new BlockError('TIME_TOO_NEW', `timestamp ${h.timestamp} is more than ${drift}s in the future`)
  }
  const p = paramsAt(spec, h.height)
  if (h.gasLimit !== p.limits.blockGasLimit) throw new BlockError('GAS_LIMIT', `gas limit ${h.gasLimit} differs from the chain spec's ${p.limits.blockGasLimit}`)
  const baseFee = nextBaseFee(parent, spec.feeMarket)
  if (h.baseFee !== baseFee) throw new BlockError('BAD_BASE_FEE', `base fee ${h.baseFee} should be ${baseFee}`)
}
