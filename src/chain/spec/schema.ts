/**
 * The genesis file format (JSON) and its JSON Schema, checked with ajv (allErrors,
 * strict). Integers that may exceed 2^53 (wei, gas) are decimal strings, 0x-hex strings,
 * or JSON numbers when they are safe integers. Every schema failure becomes one
 * human line naming the field by JSON path: `/limits/blockGasLimit must be a positive
 * integer (got "-5")`.
 */
import { Ajv } from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'

/** An integer as a decimal string, a 0x-hex string, or a safe JSON number. */
export type JsonInteger = string | number

export interface DevEngineJSON {
  type: 'dev'
  automine: boolean
  intervalMs: number
  /** The address whose signature every block must carry; omitted = unsigned blocks. */
  signer?: string
}
export interface BftEngineJSON {
  type: 'bft'
  /** PoA: power each. PoS (with `staking`): stake in wei each; power follows stake. */
  validators: Array<{ address: string; power?: JsonInteger; stake?: JsonInteger }>
  staking?: StakingJSON
  timeouts?: { proposeMs: number; prevoteMs: number; precommitMs: number; deltaMs: number; commitMs: number }
}
export interface PowEngineJSON {
  type: 'pow'
  initialBits: number
  powLimitBits?: number
  retarget: { kind: 'bitcoin'; interval: number } | { kind: 'asert'; halfLifeSeconds: number }
  coinbaseMaturity: number
  maxReorgDepth: number
  /** Fork choice between branches of equal work: keep the first seen (default) or pick one at random. */
  tieBreak?: 'first-seen' | 'random'
}
export interface PohEngineJSON {
  type: 'poh'
  /** Stake in wei each, bonded in the staking contract at genesis. */
  validators: Array<{ address: string; stake: JsonInteger }>
  staking: StakingJSON
  hashesPerTick: number
  ticksPerSlot: number
  slotsPerEpoch: number
  minTickMs?: number
}
export type EngineJSON = DevEngineJSON | BftEngineJSON | PowEngineJSON | PohEngineJSON

/** Proof of Stake on the bft engine: the staking contract's parameters. */
export interface StakingJSON {
  epochLength: number
  minStake: JsonInteger
  unbondingBlocks: number
  slashBasisPoints: number
  jailBlocks: number
  maxValidators: number
  proposerRewardBasisPoints: number
}

export interface GenesisAccountJSON {
  balance: JsonInteger
  nonce?: JsonInteger
  code?: string
  storage?: Record<string, string>
}

export interface ForkChangesJSON {
  maxBlockBytes?: number
  blockGasLimit?: JsonInteger
  maxTxBytes?: number
  chainId?: JsonInteger
  minGasPrice?: JsonInteger
  baseFeeBurn?: boolean
}

export interface ChainSpecJSON {
  name: string
  chainId: JsonInteger
  engine: EngineJSON
  blockTimeMs: number
  limits: { maxBlockBytes: number; blockGasLimit: JsonInteger; maxTxBytes: number }
  monetary: {
    initialBlockReward: JsonInteger
    halvingInterval: number
    supplyCap: JsonInteger
    baseFeeBurn: boolean
    minGasPrice: JsonInteger
  }
  feeMarket: {
    initialBaseFee: JsonInteger
    adjust: boolean
    elasticityMultiplier: JsonInteger
    changeDenominator: JsonInteger
  }
  genesis: {
    timestamp: JsonInteger
    extraData?: string
    alloc: Record<string, GenesisAccountJSON>
  }
  forks?: Array<{ name: string; height: JsonInteger; changes: ForkChangesJSON }>
  permissions?: PermissionsJSON
  execution?: ExecutionJSON
}

/** How blocks' txs run: `parallel` = Sealevel-style batches over declared access (a consensus rule). */
export interface ExecutionJSON {
  parallel: boolean
}

/**
 * A permissioned chain: admins who vote changes on chain, and optional allowlists. A list
 * left out (or null) means unrestricted; an empty list allows nobody but the admins (accounts).
 */
export interface PermissionsJSON {
  admins: string[]
  accounts?: string[] | null
  nodes?: string[] | null
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER
const ref = (name: string) => ({ $ref: `#/$defs/${name}` })

const stakingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['epochLength', 'minStake', 'unbondingBlocks', 'slashBasisPoints', 'jailBlocks', 'maxValidators', 'proposerRewardBasisPoints'],
  properties: {
    epochLength: ref('positiveCount'),
    minStake: ref('positiveUint'),
    unbondingBlocks: ref('count'),
    slashBasisPoints: { type: 'integer', minimum: 0, maximum: 10000, description: 'basis points from 0 to 10000' },
    jailBlocks: ref('count'),
    maxValidators: { type: 'integer', minimum: 1, maximum: 1000, description: 'an integer from 1 to 1000' },
    proposerRewardBasisPoints: { type: 'integer', minimum: 0, maximum: 10000, description: 'basis points from 0 to 10000' },
  },
}

/** One schema per engine type; a new engine adds its entry here. */
const engineSchemas = {
  dev: {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'automine', 'intervalMs'],
    properties: { type: { const: 'dev' }, automine: ref('bool'), intervalMs: ref('count'), signer: ref('address') },
  },
  bft: {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'validators'],
    properties: {
      type: { const: 'bft' },
      validators: { type: 'array', minItems: 1, description: 'a non-empty list of { address, power } (or { address, stake } with staking)', items: ref('validator') },
      staking: stakingSchema,
      timeouts: {
        type: 'object',
        additionalProperties: false,
        required: ['proposeMs', 'prevoteMs', 'precommitMs', 'deltaMs', 'commitMs'],
        properties: {
          proposeMs: ref('positiveCount'),
          prevoteMs: ref('positiveCount'),
          precommitMs: ref('positiveCount'),
          deltaMs: ref('count'),
          commitMs: ref('count'),
        },
      },
    },
  },
  pow: {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'initialBits', 'retarget', 'coinbaseMaturity', 'maxReorgDepth'],
    properties: {
      type: { const: 'pow' },
      initialBits: { type: 'integer', minimum: 1, maximum: 0xffffffff, description: 'a compact target (32-bit, e.g. 0x1f00ffff)' },
      powLimitBits: { type: 'integer', minimum: 1, maximum: 0xffffffff, description: 'a compact target (32-bit)' },
      retarget: {
        type: 'object',
        description: '{ kind: "bitcoin", interval } or { kind: "asert", halfLifeSeconds }',
        oneOf: [
          { type: 'object', additionalProperties: false, required: ['kind', 'interval'], properties: { kind: { const: 'bitcoin' }, interval: ref('positiveCount') } },
          { type: 'object', additionalProperties: false, required: ['kind', 'halfLifeSeconds'], properties: { kind: { const: 'asert' }, halfLifeSeconds: ref('positiveCount') } },
        ],
      },
      coinbaseMaturity: ref('count'),
      maxReorgDepth: ref('positiveCount'),
      tieBreak: { enum: ['first-seen', 'random'], description: '"first-seen" or "random"' },
    },
  },
  poh: {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'validators', 'staking', 'hashesPerTick', 'ticksPerSlot', 'slotsPerEpoch'],
    properties: {
      type: { const: 'poh' },
      validators: {
        type: 'array',
        minItems: 1,
        maxItems: 2048,
        description: 'a non-empty list of { address, stake }',
        items: { type: 'object', additionalProperties: false, required: ['address', 'stake'], properties: { address: ref('address'), stake: ref('positiveUint') } },
      },
      staking: stakingSchema,
      hashesPerTick: { type: 'integer', minimum: 2, maximum: 1 << 30, description: 'an integer from 2 to 2^30 (measure with `catena poh calibrate`)' },
      ticksPerSlot: { type: 'integer', minimum: 1, maximum: 1 << 16, description: 'an integer from 1 to 65536' },
      slotsPerEpoch: { type: 'integer', minimum: 32, maximum: 1 << 22, multipleOf: 4, description: 'a multiple of 4 from 32 to 2^22' },
      minTickMs: { type: 'number', minimum: 0, maximum: 60000, description: 'a number of ms from 0 to 60000' },
    },
  },
} as const
export const ENGINE_TYPES = Object.keys(engineSchemas)

const integerDefs = {
  uint: {
    description: 'a non-negative integer',
    anyOf: [
      { type: 'string', maxLength: 80, pattern: '^[0-9]+$' },
      { type: 'string', maxLength: 66, pattern: '^0x[0-9a-fA-F]+$' },
      { type: 'integer', minimum: 0, maximum: MAX_SAFE },
    ],
  },
  positiveUint: {
    description: 'a positive integer',
    anyOf: [
      { type: 'string', maxLength: 80, pattern: '^0*[1-9][0-9]*$' },
      { type: 'string', maxLength: 66, pattern: '^0x0*[1-9a-fA-F][0-9a-fA-F]*$' },
      { type: 'integer', minimum: 1, maximum: MAX_SAFE },
    ],
  },
}

export const chainSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'chainId', 'engine', 'blockTimeMs', 'limits', 'monetary', 'feeMarket', 'genesis'],
  properties: {
    name: ref('name'),
    chainId: ref('positiveUint'),
    engine: {
      type: 'object',
      discriminator: { propertyName: 'type' },
      oneOf: Object.values(engineSchemas),
    },
    blockTimeMs: ref('positiveCount'),
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['maxBlockBytes', 'blockGasLimit', 'maxTxBytes'],
      properties: {
        maxBlockBytes: ref('positiveCount'),
        blockGasLimit: ref('positiveUint'),
        maxTxBytes: ref('positiveCount'),
      },
    },
    monetary: {
      type: 'object',
      additionalProperties: false,
      required: ['initialBlockReward', 'halvingInterval', 'supplyCap', 'baseFeeBurn', 'minGasPrice'],
      properties: {
        initialBlockReward: ref('uint'),
        halvingInterval: ref('count'),
        supplyCap: ref('uint'),
        baseFeeBurn: ref('bool'),
        minGasPrice: ref('uint'),
      },
    },
    feeMarket: {
      type: 'object',
      additionalProperties: false,
      required: ['initialBaseFee', 'adjust', 'elasticityMultiplier', 'changeDenominator'],
      properties: {
        initialBaseFee: ref('uint'),
        adjust: ref('bool'),
        elasticityMultiplier: ref('positiveUint'),
        changeDenominator: ref('positiveUint'),
      },
    },
    genesis: {
      type: 'object',
      additionalProperties: false,
      required: ['timestamp', 'alloc'],
      properties: {
        timestamp: ref('uint'),
        extraData: ref('extraData'),
        alloc: {
          type: 'object',
          description: 'an object mapping addresses to accounts',
          propertyNames: ref('address'),
          additionalProperties: ref('account'),
        },
      },
    },
    forks: { type: 'array', items: ref('fork') },
    permissions: {
      type: 'object',
      additionalProperties: false,
      required: ['admins'],
      properties: {
        admins: { type: 'array', minItems: 1, maxItems: 256, items: ref('address'), description: 'a non-empty list of addresses' },
        accounts: { anyOf: [{ type: 'null' }, { type: 'array', maxItems: 10000, items: ref('address') }], description: 'null or a list of addresses' },
        nodes: { anyOf: [{ type: 'null' }, { type: 'array', maxItems: 1000, items: ref('peerId') }], description: 'null or a list of libp2p peer ids' },
      },
    },
    execution: {
      type: 'object',
      additionalProperties: false,
      required: ['parallel'],
      properties: { parallel: ref('bool') },
    },
  },
  $defs: {
    ...integerDefs,
    count: { type: 'integer', minimum: 0, maximum: MAX_SAFE, description: 'a non-negative integer' },
    positiveCount: { type: 'integer', minimum: 1, maximum: MAX_SAFE, description: 'a positive integer' },
    bool: { type: 'boolean', description: 'true or false' },
    name: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      pattern: '\\S',
      description: 'a non-empty name of at most 64 characters',
    },
    address: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$', description: 'a 20-byte 0x-hex address' },
    peerId: { type: 'string', pattern: '^[1-9A-HJ-NP-Za-km-z]{32,128}$', description: 'a base58 libp2p peer id (12D3KooW...)' },
    word: { type: 'string', pattern: '^0x[0-9a-fA-F]{1,64}$', description: '0x-hex of at most 32 bytes' },
    bytes: {
      type: 'string',
      pattern: '^0x([0-9a-fA-F]{2})*$',
      description: '0x-hex bytes (an even number of hex digits)',
    },
    extraData: {
      type: 'string',
      pattern: '^0x([0-9a-fA-F]{2}){0,32}$',
      description: 'at most 32 bytes of 0x-hex',
    },
    validator: {
      type: 'object',
      additionalProperties: false,
      required: ['address'],
      properties: { address: ref('address'), power: ref('positiveUint'), stake: ref('positiveUint') },
    },
    account: {
      type: 'object',
      additionalProperties: false,
      required: ['balance'],
      properties: {
        balance: ref('uint'),
        nonce: ref('uint'),
        code: ref('bytes'),
        storage: {
          type: 'object',
          description: 'an object mapping 32-byte slots to values',
          propertyNames: ref('word'),
          additionalProperties: ref('word'),
        },
      },
    },
    fork: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'height', 'changes'],
      properties: {
        name: ref('name'),
        height: ref('uint'),
        changes: {
          type: 'object',
          description: 'an object with at least one parameter change',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            maxBlockBytes: ref('positiveCount'),
            blockGasLimit: ref('positiveUint'),
            maxTxBytes: ref('positiveCount'),
            chainId: ref('positiveUint'),
            minGasPrice: ref('uint'),
            baseFeeBurn: ref('bool'),
          },
        },
      },
    },
  },
} as const

let compiled: ValidateFunction | undefined

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: true, verbose: true, discriminator: true }).compile(
    chainSpecSchema,
  )
  return compiled
}

/** Every schema problem of a parsed genesis file, one line each; empty when it conforms. */
export function validateChainSpecJSON(json: unknown): string[] {
  const validate = validator()
  if (validate(json)) return []
  const lines = (validate.errors ?? []).map(describe).filter((l): l is string => l !== undefined)
  return [...new Set(lines)]
}

/** Short JSON preview of an offending value for messages. */
export function preview(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

const at = (path: string) => (path === '' ? 'the spec' : path)
const got = (value: unknown) => (value === undefined ? '' : ` (got ${preview(value)})`)
const TYPE_NAMES: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  boolean: 'true or false',
  integer: 'an integer',
  number: 'a number',
}

function describe(e: ErrorObject): string | undefined {
  // The anyOf error itself is reported with the field's description; its branches add nothing.
  if (e.schemaPath.includes('/anyOf/')) return undefined
  if (e.keyword === 'propertyNames') return undefined // reported through the key's own error
  const path = e.instancePath
  const params = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return `${path}/${String(params.missingProperty)} is required`
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema?.properties as object | undefined) ?? {})
      const allowed = known.length > 0 ? ` (allowed: ${known.join(', ')})` : ''
      return `${path}/${String(params.additionalProperty)} is an unknown field${allowed}`
    }
    case 'discriminator': {
      const tag = `${path}/${String(params.tag)}`
      if (params.tagValue === undefined) return `${tag} is required`
      const types = ENGINE_TYPES.map((t) => JSON.stringify(t)).join(', ')
      return `${tag} must be one of ${types}${got(params.tagValue)}`
    }
  }
  const description = e.parentSchema?.description as string | undefined
  let what = description ?? (e.keyword === 'type' ? TYPE_NAMES[String(params.type)] : undefined)
  if (what === undefined) return `${at(path)} ${e.message ?? 'is invalid'}${got(e.data)}`
  if (e.propertyName !== undefined) return `${at(path)} key ${JSON.stringify(e.propertyName)} must be ${what}`
  const acceptsStrings = /^#\/\$defs\/(uint|positiveUint)\b/.test(e.schemaPath)
  if (acceptsStrings && typeof e.data === 'number' && !Number.isSafeInteger(e.data)) {
    what += ' (JSON numbers above 2^53-1 lose precision: write it as a string)'
  }
  return `${at(path)} must be ${what}${got(e.data)}`
}
