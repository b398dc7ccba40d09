/**
 * A validator set: addresses with voting power, the quorum thresholds of Tendermint, and
 * proposer selection by weighted round robin exactly as CometBFT does it
 * (types/validator_set.go): every validator's priority grows by its power each step, the
 * one with the highest priority proposes (ties to the lowest address) and pays the total
 * power back. Over any window each validator proposes in proportion to its power, and every
 * node computes the same proposer from the same set with integer math only.
 *
 * A set is immutable. Per CometBFT, the set of the next height is this one advanced one step
 * (`nextHeight`), and the proposer of round r at a height is the set advanced r more steps.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { sha256 } from '../../crypto/hash.ts'
import { compareBytes, isBytes, readUint, toKey, uintBytes } from './bytes.ts'
import { ValidatorSetError } from './errors.ts'
import { ADDRESS_LENGTH, type Address } from './types.ts'

export interface Validator {
  readonly address: Address
  readonly power: bigint
}

/** A change for `nextHeight`: a new power for an address; power 0 removes it. */
export interface ValidatorChange {
  address: Address
  power: bigint
}

/** A validator with its proposer priority, for persisting a set (`toEntries` / `fromEntries`). */
export interface ValidatorEntry extends Validator {
  readonly priority: bigint
}

/** CometBFT's bound (MaxInt64 / 8): keeps priorities representable as int64 everywhere. */
export const MAX_TOTAL_POWER = (1n << 63n) / 8n
/** Proposer lookups beyond this round are refused (each costs O(round) to compute). */
export const MAX_PROPOSER_ROUND = 1 << 20
const PRIORITY_WINDOW_FACTOR = 2n

export class ValidatorSet {
  /** Sorted by address, ascending. */
  readonly validators: readonly Validator[]
  readonly totalPower: bigint
  private readonly priorities: readonly bigint[]
  private readonly proposerIndex: number
  private readonly byAddress: Map<string, number>
  /** Proposers of rounds 1.. (index r-1), computed on demand. */
  private roundProposers?: { priorities: bigint[]; proposers: number[] }

  private constructor(validators: Validator[], priorities: bigint[], proposerIndex: number) {
    this.validators = validators
    this.priorities = priorities
    this.proposerIndex = proposerIndex
    this.totalPower = validators.reduce((sum, v) => sum + v.power, 0n)
    this.byAddress = new Map(validators.map((v, i) => [toKey(v.address), i]))
  }

  /** A genesis set (CometBFT's NewValidatorSet): equal starting priorities, then one step. */
  static create(validators: readonly ValidatorChange[]): ValidatorSet {
    if (!Array.isArray(validators) || validators.length === 0) {
      throw new ValidatorSetError('EMPTY', 'a validator set needs at least one validator')
    }
    const sorted = checkChanges(validators, false)
    const vals = sorted.map((v) => ({ address: Uint8Array.from(v.address), power: v.power }))
    const total = checkTotal(vals)
    const start = -(total + (total >> 3n))
    const prios = vals.map(() => start)
    rescaleAndCenter(prios, total)
    return ValidatorSet.advanced(vals, prios, total)
  }

  /** IncrementProposerPriority(1) on copies (CometBFT): rescale, center, one step. */
  private static advanced(vals: Validator[], prios: readonly bigint[], total: bigint): ValidatorSet {
    const p = [...prios]
    rescaleAndCenter(p, total)
    const proposer = step(vals, p, total)
    return new ValidatorSet(vals, p, proposer)
  }

  /** Rebuilds a persisted set exactly (priorities and the current proposer). */
  static fromEntries(entries: readonly ValidatorEntry[], proposer: Address): ValidatorSet {
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new ValidatorSetError('EMPTY', 'a validator set needs at least one validator')
    }
    const sorted = checkChanges(entries, false) as ValidatorEntry[]
    for (const e of sorted) {
      if (typeof e.priority !== 'bigint') throw new ValidatorSetError('BAD_POWER', 'priority must be a bigint')
    }
    const vals = sorted.map((v) => ({ address: Uint8Array.from(v.address), power: v.power }))
    checkTotal(vals)
    const index = sorted.findIndex((v) => compareBytes(v.address, proposer) === 0)
    if (index < 0) throw new ValidatorSetError('UNKNOWN_VALIDATOR', 'the proposer is not in the set')
    return new ValidatorSet(vals, sorted.map((e) => e.priority), index)
  }

  get size(): number {
    return this.validators.length
  }

  get(address: Address): Validator | undefined {
    const i = this.byAddress.get(toKey(address))
    return i === undefined ? undefined : this.validators[i]
  }

  has(address: Address): boolean {
    return this.byAddress.has(toKey(address))
  }

  /** Voting power of an address; 0 if it is not a validator. */
  powerOf(address: Address): bigint {
    return this.get(address)?.power ?? 0n
  }

  /** The least power that is more than 2/3 of the total: floor(2T/3) + 1. */
  get quorum(): bigint {
    return (this.totalPower * 2n) / 3n + 1n
  }

  /** More than 2/3 of the total power (2f+1 in the paper): 3p > 2T, exact. */
  hasTwoThirds(power: bigint): boolean {
    return power * 3n > this.totalPower * 2n
  }

  /** More than 1/3 of the total power (f+1 in the paper): 3p > T, exact. */
  hasOneThird(power: bigint): boolean {
    return power * 3n > this.totalPower
  }

  /** The proposer of `round` at the height this set belongs to. */
  proposer(round = 0): Validator {
    if (!Number.isSafeInteger(round) || round < 0 || round > MAX_PROPOSER_ROUND) {
      throw new ValidatorSetError('BAD_ROUND', `round must be an integer in [0, ${MAX_PROPOSER_ROUND}], got ${round}`)
    }
    if (round === 0) return this.validators[this.proposerIndex]
    // IncrementProposerPriority(r) = one rescale+center, then r steps: the proposers of rounds
    // 1..r are prefixes of one sequence, so it is computed once and extended as rounds grow.
    if (!this.roundProposers) {
      const priorities = [...this.priorities]
      rescaleAndCenter(priorities, this.totalPower)
      this.roundProposers = { priorities, proposers: [] }
    }
    const seq = this.roundProposers
    while (seq.proposers.length < round) seq.proposers.push(step(this.validators, seq.priorities, this.totalPower))
    return this.validators[seq.proposers[round - 1]]
  }

  /**
   * The set of the next height: `changes` applied as CometBFT's UpdateWithChangeSet does (new
   * validators start at -1.125 x total power so re-bonding cannot reset a low priority), then
   * one step of the rotation.
   */
  nextHeight(changes: readonly ValidatorChange[] = []): ValidatorSet {
    let vals: Validator[] = [...this.validators]
    let prios = [...this.priorities]
    if (changes.length > 0) {
      ;({ vals, prios } = applyChanges(this, changes))
    }
    return ValidatorSet.advanced(vals, prios, vals.reduce((s, v) => s + v.power, 0n))
  }

  /** Priority of an address (for persistence and tests). */
  priorityOf(address: Address): bigint | undefined {
    const i = this.byAddress.get(toKey(address))
    return i === undefined ? undefined : this.priorities[i]
  }

  toEntries(): ValidatorEntry[] {
    return this.validators.map((v, i) => ({ address: v.address, power: v.power, priority: this.priorities[i] }))
  }

  /** Commitment to membership and power (not priorities): sha256(RLP([[address, power], ...])). */
  hash(): Uint8Array {
    return sha256(RLP.encode(this.validators.map((v) => [v.address, uintBytes(v.power)])))
  }
}

/** Checks addresses and powers, sorts by address, rejects duplicates. Zero power only if allowed. */
function checkChanges<T extends ValidatorChange>(changes: readonly T[], allowZero: boolean): T[] {
  for (const c of changes) {
    if (!c || !isBytes(c.address, ADDRESS_LENGTH)) {
      throw new ValidatorSetError('BAD_ADDRESS', `validator address must be ${ADDRESS_LENGTH} bytes`)
    }
    if (typeof c.power !== 'bigint' || c.power < 0n || (!allowZero && c.power === 0n) || c.power > MAX_TOTAL_POWER) {
      throw new ValidatorSetError(
        'BAD_POWER',
        `voting power must be a bigint in [${allowZero ? 0 : 1}, ${MAX_TOTAL_POWER}], got ${String(c.power)}`,
      )
    }
  }
  const sorted = [...changes].sort((a, b) => compareBytes(a.address, b.address))
  for (let i = 1; i < sorted.length; i++) {
    if (compareBytes(sorted[i - 1].address, sorted[i].address) === 0) {
      throw new ValidatorSetError('DUPLICATE_ADDRESS', `validator 0x${toKey(sorted[i].address)} appears twice`)
    }
  }
  return sorted
}

function checkTotal(vals: readonly Validator[]): bigint {
  const total = vals.reduce((s, v) => s + v.power, 0n)
  if (total > MAX_TOTAL_POWER) {
    throw new ValidatorSetError('BAD_POWER', `total voting power ${total} exceeds ${MAX_TOTAL_POWER}`)
  }
  return total
}

function applyChanges(set: ValidatorSet, changes: readonly ValidatorChange[]): { vals: Validator[]; prios: bigint[] } {
  const sorted = checkChanges(changes, true)
  const current = new Map(set.toEntries().map((e) => [toKey(e.address), e]))
  for (const c of sorted) {
    if (c.power === 0n && !current.has(toKey(c.address))) {
      throw new ValidatorSetError('UNKNOWN_VALIDATOR', `cannot remove 0x${toKey(c.address)}: not a validator`)
    }
  }
  // Total after updates, before removals (CometBFT's tvpAfterUpdatesBeforeRemovals).
  let tvp = set.totalPower
  for (const c of sorted) if (c.power > 0n) tvp += c.power - (current.get(toKey(c.address))?.power ?? 0n)
  const newcomer = -(tvp + (tvp >> 3n))
  for (const c of sorted) {
    const key = toKey(c.address)
    const existing = current.get(key)
    if (c.power === 0n) current.delete(key)
    else current.set(key, { address: Uint8Array.from(c.address), power: c.power, priority: existing?.priority ?? newcomer })
  }
  if (current.size === 0) throw new ValidatorSetError('EMPTY', 'the changes would remove every validator')
  const entries = [...current.values()].sort((a, b) => compareBytes(a.address, b.address))
  const vals = entries.map((e) => ({ address: e.address, power: e.power }))
  const total = checkTotal(vals)
  const prios = entries.map((e) => e.priority)
  rescaleAndCenter(prios, total)
  return { vals, prios }
}

/** One rotation step: everyone gains its power; the highest (lowest address on ties) pays the total. */
function step(vals: readonly Validator[], prios: bigint[], total: bigint): number {
  let best = 0
  for (let i = 0; i < vals.length; i++) {
    prios[i] += vals[i].power
    // vals are sorted by address, so a strict `>` keeps the lowest address on ties.
    if (i > 0 && prios[i] > prios[best]) best = i
  }
  prios[best] -= total
  return best
}

/** Caps max-min priority distance to 2 x total (Go integer division), then centers on the floor average. */
function rescaleAndCenter(prios: bigint[], total: bigint): void {
  const diffMax = PRIORITY_WINDOW_FACTOR * total
  let min = prios[0]
  let max = prios[0]
  for (const p of prios) {
    if (p < min) min = p
    if (p > max) max = p
  }
  const diff = max - min
  if (diffMax > 0n && diff > diffMax) {
    const ratio = (diff + diffMax - 1n) / diffMax
    for (let i = 0; i < prios.length; i++) prios[i] = prios[i] / ratio // truncates toward zero, like Go
  }
  const sum = prios.reduce((s, p) => s + p, 0n)
  const avg = floorDiv(sum, BigInt(prios.length)) // big.Int.Div is Euclidean: floor for a positive divisor
  for (let i = 0; i < prios.length; i++) prios[i] -= avg
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

/** RLP([[address, power, priority sign, |priority|], ...], proposer) for persisting a set. */
export function encodeValidatorSet(set: ValidatorSet): Uint8Array {
  return RLP.encode([
    set.toEntries().map((e) => [e.address, uintBytes(e.power), uintBytes(e.priority < 0n ? 1 : 0), uintBytes(e.priority < 0n ? -e.priority : e.priority)]),
    set.proposer(0).address,
  ])
}

export function decodeValidatorSet(bytes: Uint8Array): ValidatorSet {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new ValidatorSetError('MALFORMED', `validator set is not valid RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(decoded) || decoded.length !== 2 || !Array.isArray(decoded[0]) || !isBytes(decoded[1])) {
    throw new ValidatorSetError('MALFORMED', 'validator set must be RLP([entries, proposer])')
  }
  const entries: ValidatorEntry[] = (decoded[0] as unknown[]).map((item) => {
    if (!Array.isArray(item) || item.length !== 4) throw new ValidatorSetError('MALFORMED', 'validator entry must have 4 fields')
    const power = readUint(item[1], 8)
    const negative = readUint(item[2], 1)
    const magnitude = readUint(item[3], 8)
    if (power === undefined || magnitude === undefined || (negative !== 0n && negative !== 1n)) {
      throw new ValidatorSetError('MALFORMED', 'validator entry has a non-canonical power or priority')
    }
    return { address: item[0] as Uint8Array, power, priority: negative === 1n ? -magnitude : magnitude }
  })
  return ValidatorSet.fromEntries(entries, decoded[1] as Uint8Array)
}
