/**
 * The PoA BFT engine's parameters (the `engine` part of a `bft` chain spec): a fixed validator
 * set with voting powers, and optional timeouts. `parseBftConfig` checks them and names the
 * offending field; `ValidatorSchedule` gives the validator set of any height (the spec's set,
 * advanced one proposer-rotation step per height).
 * @module
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { DEV_ACCOUNTS } from '../../chain/spec/index.ts'
import { DEFAULT_TIMEOUTS, ValidatorSet, type TimeoutConfig } from '../bft/index.ts'
import type { BftStaking } from './rules.ts'
import type { Chain } from '../../chain/chain.ts'
import type { BftEngineSpec } from '../../chain/spec/index.ts'
import { votingPowers } from '../../contracts/index.ts'

export interface BftValidatorConfig {
  address: Uint8Array
  power: bigint
}

export interface BftTimeoutsConfig {
  proposeMs: number
  prevoteMs: number
  precommitMs: number
  /** Added to propose/prevote/precommit timeouts per round. */
  deltaMs: number
  /** Wait after a commit before the next height starts. */
  commitMs: number
}

export interface BftEngineConfig {
  validators: BftValidatorConfig[]
  timeouts?: BftTimeoutsConfig
  /** PoS: the reward split, the epoch and the unbonding period; evidence is included and slashed. */
  staking?: BftStaking
}

/** JSON shape, as in a genesis file. */
export interface BftEngineConfigJSON {
  validators: Array<{ address: string; power: number | string }>
  timeouts?: Partial<BftTimeoutsConfig>
}

export class BftConfigError extends Error {
  readonly code = 'INVALID_BFT_CONFIG'
  override readonly name = 'BftConfigError'
  constructor(readonly issues: string[]) {
    super(`bft engine config: ${issues.join('; ')}`)
  }
}

const TIMEOUT_FIELDS = ['proposeMs', 'prevoteMs', 'precommitMs', 'deltaMs', 'commitMs'] as const

/** Checks a bft engine config from JSON; throws BftConfigError listing every problem (path-prefixed by `at`). */
export function parseBftConfig(json: unknown, at = '/engine'): BftEngineConfig {
  const issues: string[] = []
  const validators: BftValidatorConfig[] = []
  const obj = json as BftEngineConfigJSON
  if (!obj || typeof obj !== 'object' || !Array.isArray(obj.validators)) {
    throw new BftConfigError([`${at}/validators must be a list of { address, power }`])
  }
  if (obj.validators.length === 0) issues.push(`${at}/validators must not be empty: a BFT chain needs at least one validator`)
  const seen = new Map<string, number>()
  obj.validators.forEach((v, i) => {
    const path = `${at}/validators/${i}`
    if (!v || typeof v.address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v.address)) {
      issues.push(`${path}/address must be a 20-byte 0x-hex address (got ${JSON.stringify(v?.address)})`)
      return
    }
    const key = v.address.toLowerCase()
    const first = seen.get(key)
    if (first !== undefined) issues.push(`${path}/address repeats the validator at ${at}/validators/${first} (${key})`)
    else seen.set(key, i)
    let power: bigint
    try {
      if (typeof v.power === 'number' && !Number.isSafeInteger(v.power)) throw new Error()
      if (typeof v.power !== 'number' && (typeof v.power !== 'string' || !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v.power))) throw new Error()
      power = BigInt(v.power)
    } catch {
      issues.push(`${path}/power must be a positive integer (got ${JSON.stringify(v.power)})`)
      return
    }
    if (power <= 0n) issues.push(`${path}/power must be a positive integer (got ${JSON.stringify(v.power)}): a validator with no power cannot vote`)
    validators.push({ address: hexToBytes(key as `0x${string}`), power })
  })
  let timeouts: BftTimeoutsConfig | undefined
  if (obj.timeouts !== undefined) {
    const t = obj.timeouts as Record<string, unknown>
    const defaults = fromTimeoutConfig(DEFAULT_TIMEOUTS)
    timeouts = { ...defaults }
    for (const key of Object.keys(t)) {
      if (!(TIMEOUT_FIELDS as readonly string[]).includes(key)) {
        issues.push(`${at}/timeouts/${key} is an unknown field (allowed: ${TIMEOUT_FIELDS.join(', ')})`)
        continue
      }
      const value = t[key]
      const positive = key !== 'deltaMs' && key !== 'commitMs'
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (positive ? 1 : 0)) {
        issues.push(`${at}/timeouts/${key} must be a ${positive ? 'positive' : 'non-negative'} integer of milliseconds (got ${JSON.stringify(value)})`)
        continue
      }
      timeouts[key as keyof BftTimeoutsConfig] = value
    }
  }
  if (issues.length === 0) {
    try {
      ValidatorSet.create(validators)
    } catch (err) {
      issues.push(`${at}/validators: ${(err as Error).message}`)
    }
  }
  if (issues.length > 0) throw new BftConfigError(issues)
  return timeouts ? { validators, timeouts } : { validators }
}

export function bftConfigToJSON(config: BftEngineConfig): BftEngineConfigJSON {
  const json: BftEngineConfigJSON = {
    validators: config.validators.map((v) => ({ address: bytesToHex(v.address), power: v.power <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.power) : v.power.toString() })),
  }
  if (config.timeouts) json.timeouts = { ...config.timeouts }
  return json
}

export function toTimeoutConfig(t: BftTimeoutsConfig | undefined): TimeoutConfig {
  if (!t) return DEFAULT_TIMEOUTS
  return {
    propose: { baseMs: t.proposeMs, deltaMs: t.deltaMs },
    prevote: { baseMs: t.prevoteMs, deltaMs: t.deltaMs },
    precommit: { baseMs: t.precommitMs, deltaMs: t.deltaMs },
    commitMs: t.commitMs,
  }
}

function fromTimeoutConfig(t: TimeoutConfig): BftTimeoutsConfig {
  return { proposeMs: t.propose.baseMs, prevoteMs: t.prevote.baseMs, precommitMs: t.precommit.baseMs, deltaMs: t.propose.deltaMs, commitMs: t.commitMs }
}

/** Keep one set in this many heights; the others are recomputed from the nearest kept one. */
const CHECKPOINT_EVERY = 1024n

/**
 * The membership in force at a height when it can change (a permissioned chain's validators,
 * voted on chain): the validators and the first height they are in force from.
 */
export type MembershipAt = (height: bigint) => { since: bigint; validators: readonly BftValidatorConfig[] } | undefined

/**
 * The membership a node derives from its chain: on PoS chains the staking contract's
 * validators by stake (the snapshot in force), on permissioned chains the validators voted
 * on chain; undefined (the spec's fixed set) otherwise.
 */
export function chainMembership(chain: Pick<Chain, 'stakes' | 'permissions'>, engine: Pick<BftEngineSpec, 'staking'>): MembershipAt {
  return (height) => {
    const stakes = engine.staking ? chain.stakes.inForce(height) : undefined
    if (engine.staking && stakes) return { since: stakes.since, validators: votingPowers(stakes.value, BigInt(engine.staking.maxValidators)) }
    const p = chain.permissions.inForce(height)
    return p && { since: p.since, validators: p.value.validators }
  }
}

/**
 * The validator set of each height. Within one membership the set advances by one
 * proposer-rotation step per height (Tendermint's proposer priorities); a new membership
 * starts afresh at the height it takes effect, so every node derives the same sets.
 */
export class ValidatorSchedule {
  private readonly fixed: MembershipRun
  private readonly runs = new Map<bigint, MembershipRun>()

  constructor(
    validators: readonly BftValidatorConfig[],
    private readonly membership?: MembershipAt,
  ) {
    this.fixed = new MembershipRun(1n, validators)
  }

  at(height: bigint): ValidatorSet {
    if (height < 1n) throw new RangeError(`no validator set for height ${height}: consensus starts at height 1`)
    const m = this.membership?.(height)
    if (!m || m.validators.length === 0) return this.fixed.at(height)
    const since = m.since < 1n ? 1n : m.since
    let run = this.runs.get(since)
    if (!run) {
      run = new MembershipRun(since, m.validators)
      this.runs.set(since, run)
      if (this.runs.size > 64) this.runs.delete(this.runs.keys().next().value!)
    }
    return run.at(height)
  }
}

/** One membership from height `since` on: the set at each height, with checkpoints to serve old heights. */
class MembershipRun {
  private readonly checkpoints = new Map<bigint, ValidatorSet>()
  private last: { height: bigint; set: ValidatorSet }

  constructor(
    private readonly since: bigint,
    validators: readonly BftValidatorConfig[],
  ) {
    const first = ValidatorSet.create(validators)
    this.checkpoints.set(since, first)
    this.last = { height: since, set: first }
  }

  at(height: bigint): ValidatorSet {
    if (height < this.since) throw new RangeError(`height ${height} is before this membership (from ${this.since})`)
    if (height === this.last.height) return this.last.set
    let from = this.last.height <= height ? this.last : undefined
    if (!from) {
      const base = ((height - this.since) / CHECKPOINT_EVERY) * CHECKPOINT_EVERY + this.since
      from = { height: base, set: this.checkpoints.get(base)! }
    }
    let { height: h, set } = from
    while (h < height) {
      set = set.nextHeight()
      h++
      if ((h - this.since) % CHECKPOINT_EVERY === 0n) this.checkpoints.set(h, set)
    }
    this.last = { height: h, set }
    return set
  }
}

/**
 * The `consortium` preset's engine: accounts 0..3 of the test mnemonic, power 1 each,
 * one-second block rhythm. (Chain id 1338, free gas, no block reward in the preset itself.)
 */
export function consortiumEngineJSON(): BftEngineConfigJSON & { type: 'bft' } {
  return {
    type: 'bft',
    validators: DEV_ACCOUNTS.slice(0, 4).map((address) => ({ address: address.toLowerCase(), power: 1 })),
    timeouts: { proposeMs: 3000, prevoteMs: 1000, precommitMs: 1000, deltaMs: 500, commitMs: 1000 },
  }
}
