/**
 * EIP-1559 base fee (https://eips.ethereum.org/EIPS/eip-1559), following the EIP's
 * reference code: the base fee moves toward keeping blocks at the gas target
 * (limit / elasticity) by at most 1/changeDenominator per block; an increase is at least
 * 1 wei, a decrease may reach 0. With `adjust` off it stays at the spec's initial base fee.
 * Catena has EIP-1559 from genesis, so there is no fork-block special case.
 */
import { ChainArgumentError } from './spec/types.ts'
import type { FeeMarket } from './spec/types.ts'

export interface ParentGas {
  gasUsed: bigint
  gasLimit: bigint
  baseFee: bigint
}

/** Gas a block should use for the base fee to stay put. */
export function gasTarget(gasLimit: bigint, feeMarket: FeeMarket): bigint {
  return gasLimit / feeMarket.elasticityMultiplier
}

/** The base fee of the child of `parent`. */
export function nextBaseFee(parent: ParentGas, feeMarket: FeeMarket): bigint {
  checkInputs(parent, feeMarket)
  if (!feeMarket.adjust) return feeMarket.initialBaseFee
  const { gasUsed, baseFee } = parent
  const target = gasTarget(parent.gasLimit, feeMarket)
  if (gasUsed === target) return baseFee
  if (gasUsed > target) {
    const delta = (baseFee * (gasUsed - target)) / target / feeMarket.changeDenominator
    return baseFee + (delta > 1n ? delta : 1n)
  }
  const delta = (baseFee * (target - gasUsed)) / target / feeMarket.changeDenominator
  return baseFee - delta
}

function checkInputs(parent: ParentGas, feeMarket: FeeMarket): void {
  const { gasUsed, gasLimit, baseFee } = parent
  if (baseFee < 0n) throw new ChainArgumentError(`parent base fee must not be negative (got ${baseFee})`)
  if (gasUsed < 0n || gasUsed > gasLimit) {
    throw new ChainArgumentError(`parent gas used ${gasUsed} must be between 0 and the gas limit ${gasLimit}`)
  }
  if (feeMarket.elasticityMultiplier <= 0n || feeMarket.changeDenominator <= 0n) {
    throw new ChainArgumentError('fee market elasticityMultiplier and changeDenominator must be positive')
  }
  if (gasLimit < feeMarket.elasticityMultiplier) {
    throw new ChainArgumentError(`parent gas limit ${gasLimit} gives a gas target of 0 (elasticity ${feeMarket.elasticityMultiplier})`)
  }
}
