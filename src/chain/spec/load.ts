/**
 * Loading a chain spec: a preset name or a genesis file path -> JSON -> schema check ->
 * conversion to bigints -> semantic checks (bounds, fork order, supply cap). Every
 * problem found in a phase is reported at once in one ChainSpecError. Also the reverse,
 * `chainSpecToJSON`, whose output loads back to an equal spec.
 */
import { readFileSync } from 'node:fs'
import { bytesToHex, hexToBytes, isValidChecksumAddress } from '@ethereumjs/util'
import { listPresets, presetJSON } from './presets.ts'
import { preview, validateChainSpecJSON } from './schema.ts'
import type { ChainSpecJSON, EngineJSON, ForkChangesJSON, GenesisAccountJSON, JsonInteger, PermissionsJSON, StakingJSON } from './schema.ts'
import { ChainSpecError } from './types.ts'
import type { BlockLimits, ChainSpec, EngineSpec, ForkChanges, ForkSpec, GenesisAccount, PermissionsSpec, StakingSpec } from './types.ts'

const MAX_U64 = 2n ** 64n - 1n
const MAX_U256 = 2n ** 256n - 1n
/** geth's ceiling for a block gas limit. */
const MAX_GAS_LIMIT = 2n ** 63n - 1n
/** Wallets keep chain ids in JS numbers. */
const MAX_CHAIN_ID = 2n ** 53n - 1n
/** A block must hold at least one plain transfer. */
export const MIN_BLOCK_GAS_LIMIT = 21_000n

/**
 * Loads a preset (`dev`, see listPresets) or, failing that, the genesis file at that path.
 * Preset names have no slash, so `./dev` always means a file.
 */
export function loadChainSpec(nameOrPath: string): ChainSpec {
  const preset = presetJSON(nameOrPath)
  if (preset !== undefined) return parseChainSpec(preset, `preset "${nameOrPath}"`)
  let text: string
  try {
    text = readFileSync(nameOrPath, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT') {
      const presets = listPresets().join(', ')
      throw new ChainSpecError('CHAIN_SPEC_NOT_FOUND', nameOrPath, [
        `no such file, and no preset has that name (presets: ${presets})`,
      ])
    }
    throw new ChainSpecError('INVALID_CHAIN_SPEC', nameOrPath, [`cannot read the file: ${e.message}`])
  }
  return parseChainSpecText(text, nameOrPath)
}

/** Parses genesis-file text; `source` names it in errors. */
export function parseChainSpecText(text: string, source: string): ChainSpec {
  let json: unknown
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (err) {
    throw new ChainSpecError('INVALID_CHAIN_SPEC', source, [`invalid JSON: ${jsonErrorText(err, text)}`])
  }
  return parseChainSpec(json, source)
}

/** Validates parsed genesis JSON and converts it; throws ChainSpecError listing every problem. */
export function parseChainSpec(json: unknown, source = 'input'): ChainSpec {
  const schemaIssues = validateChainSpecJSON(json)
  if (schemaIssues.length > 0) throw new ChainSpecError('INVALID_CHAIN_SPEC', source, schemaIssues)
  const issues: string[] = []
  const spec = convert(json as ChainSpecJSON, issues)
  if (issues.length > 0) throw new ChainSpecError('INVALID_CHAIN_SPEC', source, issues)
  return spec
}

/** The genesis-file JSON for a spec; `JSON.stringify` it to write a file that loads back equal. */
export function chainSpecToJSON(spec: ChainSpec): ChainSpecJSON {
  const { limits, monetary, feeMarket, genesis } = spec
  return {
    name: spec.name,
    chainId: jsonInt(spec.chainId),
    engine: engineToJSON(spec.engine),
    blockTimeMs: spec.blockTimeMs,
    limits: { maxBlockBytes: limits.maxBlockBytes, blockGasLimit: jsonInt(limits.blockGasLimit), maxTxBytes: limits.maxTxBytes },
    monetary: {
      initialBlockReward: monetary.initialBlockReward.toString(),
      halvingInterval: monetary.halvingInterval,
      supplyCap: monetary.supplyCap.toString(),
      baseFeeBurn: monetary.baseFeeBurn,
      minGasPrice: monetary.minGasPrice.toString(),
    },
    feeMarket: {
      initialBaseFee: feeMarket.initialBaseFee.toString(),
      adjust: feeMarket.adjust,
      elasticityMultiplier: jsonInt(feeMarket.elasticityMultiplier),
      changeDenominator: jsonInt(feeMarket.changeDenominator),
    },
    genesis: {
      timestamp: jsonInt(genesis.timestamp),
      extraData: bytesToHex(genesis.extraData),
      alloc: Object.fromEntries([...genesis.alloc].map(([address, account]) => [address, accountToJSON(account)])),
    },
    forks: spec.forks.map((f) => ({ name: f.name, height: jsonInt(f.height), changes: changesToJSON(f.changes) })),
    ...(spec.permissions ? { permissions: permissionsToJSON(spec.permissions) } : {}),
    ...(spec.execution ? { execution: { parallel: spec.execution.parallel } } : {}),
  }
}

function permissionsToJSON(p: PermissionsSpec): PermissionsJSON {
  return {
    admins: p.admins.map((a) => bytesToHex(a)),
    accounts: p.accounts === null ? null : p.accounts.map((a) => bytesToHex(a)),
    nodes: p.nodes === null ? null : [...p.nodes],
  }
}

function permissionsFromJSON(json: PermissionsJSON, issues: string[]): PermissionsSpec {
  const addresses = (list: string[], path: string): Uint8Array[] => {
    const seen = new Map<string, number>()
    return list.map((a, i) => {
      const key = a.toLowerCase()
      const first = seen.get(key)
      if (first !== undefined) issues.push(`${path}/${i} repeats the address at ${path}/${first} (${key})`)
      else seen.set(key, i)
      if (/[a-f]/.test(a.slice(2)) && /[A-F]/.test(a.slice(2)) && !isValidChecksumAddress(a)) {
        issues.push(`${path}/${i} "${a}" has a bad EIP-55 checksum (write it all lowercase to skip the check)`)
      }
      return hexToBytes(key as `0x${string}`)
    })
  }
  const nodes = json.nodes ?? null
  if (nodes) {
    const seen = new Set<string>()
    nodes.forEach((n, i) => {
      if (seen.has(n)) issues.push(`/permissions/nodes/${i} repeats the peer id ${n}`)
      seen.add(n)
    })
  }
  return {
    admins: addresses(json.admins, '/permissions/admins'),
    accounts: json.accounts == null ? null : addresses(json.accounts, '/permissions/accounts'),
    nodes: nodes === null ? null : [...nodes],
  }
}

// ---- JSON -> spec, collecting semantic issues ----

function convert(json: ChainSpecJSON, issues: string[]): ChainSpec {
  const uint: UintReader = (path, value, max, maxText) => readUint(issues, path, value, max, maxText)
  const limits: BlockLimits = {
    maxBlockBytes: json.limits.maxBlockBytes,
    blockGasLimit: gasLimit('/limits/blockGasLimit', json.limits.blockGasLimit, issues),
    maxTxBytes: json.limits.maxTxBytes,
  }
  const spec: ChainSpec = {
    name: json.name,
    chainId: uint('/chainId', json.chainId, MAX_CHAIN_ID, '2^53-1'),
    engine: engineFromJSON(json.engine, issues),
    blockTimeMs: json.blockTimeMs,
    limits,
    monetary: {
      initialBlockReward: uint('/monetary/initialBlockReward', json.monetary.initialBlockReward, MAX_U256, '2^256-1'),
      halvingInterval: json.monetary.halvingInterval,
      supplyCap: uint('/monetary/supplyCap', json.monetary.supplyCap, MAX_U256, '2^256-1'),
      baseFeeBurn: json.monetary.baseFeeBurn,
      minGasPrice: uint('/monetary/minGasPrice', json.monetary.minGasPrice, MAX_U256, '2^256-1'),
    },
    feeMarket: {
      initialBaseFee: uint('/feeMarket/initialBaseFee', json.feeMarket.initialBaseFee, MAX_U256, '2^256-1'),
      adjust: json.feeMarket.adjust,
      elasticityMultiplier: uint('/feeMarket/elasticityMultiplier', json.feeMarket.elasticityMultiplier, MAX_U64, '2^64-1'),
      changeDenominator: uint('/feeMarket/changeDenominator', json.feeMarket.changeDenominator, MAX_U64, '2^64-1'),
    },
    genesis: {
      timestamp: uint('/genesis/timestamp', json.genesis.timestamp, MAX_U64, '2^64-1'),
      extraData: hexToBytes((json.genesis.extraData ?? '0x') as `0x${string}`),
      alloc: new Map(),
    },
    forks: [],
    ...(json.permissions ? { permissions: permissionsFromJSON(json.permissions, issues) } : {}),
    ...(json.execution ? { execution: { parallel: json.execution.parallel } } : {}),
  }
  checkLimits('/limits', limits, spec.feeMarket.elasticityMultiplier, issues)

  let allocated = 0n
  for (const [address, accountJSON] of Object.entries(json.genesis.alloc)) {
    const key = address.toLowerCase()
    const path = `/genesis/alloc/${address}`
    if (spec.genesis.alloc.has(key)) issues.push(`/genesis/alloc key "${address}" repeats an address already listed`)
    if (/[a-f]/.test(address.slice(2)) && /[A-F]/.test(address.slice(2)) && !isValidChecksumAddress(address)) {
      issues.push(`/genesis/alloc key "${address}" has a bad EIP-55 checksum (write it all lowercase to skip the check)`)
    }
    const account = accountFromJSON(path, accountJSON, uint, issues)
    allocated += account.balance
    spec.genesis.alloc.set(key, account)
  }
  if (allocated > spec.monetary.supplyCap) {
    issues.push(`/genesis/alloc allocates ${allocated} in total, more than /monetary/supplyCap (${spec.monetary.supplyCap})`)
  }

  let current = { ...limits }
  const names = new Set<string>()
  for (const [i, forkJSON] of (json.forks ?? []).entries()) {
    const path = `/forks/${i}`
    const fork: ForkSpec = {
      name: forkJSON.name,
      height: uint(`${path}/height`, forkJSON.height, MAX_U64, '2^64-1'),
      changes: changesFromJSON(`${path}/changes`, forkJSON.changes, issues),
    }
    if (names.has(fork.name)) issues.push(`${path}/name repeats the fork name "${fork.name}"`)
    names.add(fork.name)
    const previous = spec.forks.at(-1)
    if (previous !== undefined && fork.height <= previous.height) {
      issues.push(`${path}/height must be greater than /forks/${i - 1}/height (${previous.height}) (got ${fork.height})`)
    }
    const c = fork.changes
    current = {
      maxBlockBytes: c.maxBlockBytes ?? current.maxBlockBytes,
      blockGasLimit: c.blockGasLimit ?? current.blockGasLimit,
      maxTxBytes: c.maxTxBytes ?? current.maxTxBytes,
    }
    checkLimits(`${path}/changes`, current, spec.feeMarket.elasticityMultiplier, issues)
    spec.forks.push(fork)
  }
  return spec
}

function gasLimit(path: string, value: JsonInteger, issues: string[]): bigint {
  const n = BigInt(value)
  if (n > MAX_GAS_LIMIT) issues.push(`${path} must be at most 2^63-1 (got ${preview(value)})`)
  if (n < MIN_BLOCK_GAS_LIMIT) {
    issues.push(`${path} must be at least ${MIN_BLOCK_GAS_LIMIT}, the gas of one plain transfer (got ${preview(value)})`)
  }
  return n
}

/** Limits in force (at genesis or after a fork) must be usable together. */
function checkLimits(path: string, limits: BlockLimits, elasticity: bigint, issues: string[]): void {
  if (limits.maxTxBytes > limits.maxBlockBytes) {
    issues.push(`${path}: maxTxBytes (${limits.maxTxBytes}) must not exceed maxBlockBytes (${limits.maxBlockBytes})`)
  }
  if (limits.blockGasLimit < elasticity) {
    issues.push(
      `${path}: blockGasLimit (${limits.blockGasLimit}) must be at least /feeMarket/elasticityMultiplier (${elasticity}) so the gas target is not 0`,
    )
  }
}

type UintReader = (path: string, value: JsonInteger, max: bigint, maxText: string) => bigint

function readUint(issues: string[], path: string, value: JsonInteger, max: bigint, maxText: string): bigint {
  const n = BigInt(value)
  if (n > max) issues.push(`${path} must be at most ${maxText} (got ${preview(value)})`)
  return n
}

function accountFromJSON(path: string, json: GenesisAccountJSON, uint: UintReader, issues: string[]): GenesisAccount {
  // EIP-2681: a nonce must stay below 2^64-1 so it can still be incremented.
  const account: GenesisAccount = {
    balance: uint(`${path}/balance`, json.balance, MAX_U256, '2^256-1'),
    nonce: uint(`${path}/nonce`, json.nonce ?? 0, MAX_U64 - 1n, '2^64-2'),
  }
  if (json.code !== undefined) account.code = hexToBytes(json.code as `0x${string}`)
  if (json.storage !== undefined) {
    account.storage = new Map()
    for (const [slot, value] of Object.entries(json.storage)) {
      const key = word(slot)
      if (account.storage.has(key)) issues.push(`${path}/storage key "${slot}" repeats a slot already listed`)
      account.storage.set(key, word(value))
    }
  }
  return account
}

function changesFromJSON(path: string, json: ForkChangesJSON, issues: string[]): ForkChanges {
  const changes: ForkChanges = {}
  if (json.maxBlockBytes !== undefined) changes.maxBlockBytes = json.maxBlockBytes
  if (json.blockGasLimit !== undefined) changes.blockGasLimit = gasLimit(`${path}/blockGasLimit`, json.blockGasLimit, issues)
  if (json.maxTxBytes !== undefined) changes.maxTxBytes = json.maxTxBytes
  if (json.chainId !== undefined) {
    changes.chainId = readUint(issues, `${path}/chainId`, json.chainId, MAX_CHAIN_ID, '2^53-1')
  }
  if (json.minGasPrice !== undefined) {
    changes.minGasPrice = readUint(issues, `${path}/minGasPrice`, json.minGasPrice, MAX_U256, '2^256-1')
  }
  if (json.baseFeeBurn !== undefined) changes.baseFeeBurn = json.baseFeeBurn
  return changes
}

/** BFT vote counting keeps 8 x total power inside an int64 (CometBFT's MaxTotalVotingPower). */
const MAX_TOTAL_POWER = 2n ** 60n

function engineFromJSON(json: EngineJSON, issues: string[]): EngineSpec {
  switch (json.type) {
    case 'dev':
      return { type: 'dev', automine: json.automine, intervalMs: json.intervalMs, ...(json.signer !== undefined ? { signer: checkedAddress(json.signer, '/engine/signer', issues) } : {}) }
    case 'pow':
      return {
        type: 'pow',
        initialBits: json.initialBits,
        powLimitBits: json.powLimitBits ?? json.initialBits,
        retarget: { ...json.retarget },
        coinbaseMaturity: json.coinbaseMaturity,
        maxReorgDepth: json.maxReorgDepth,
        ...(json.tieBreak !== undefined ? { tieBreak: json.tieBreak } : {}),
      }
    case 'bft': {
      const seen = new Map<string, number>()
      const staking = json.staking ? stakingFromJSON(json.staking) : undefined
      let total = 0n
      const validators = json.validators.map((v, i) => {
        const address = validatorAddress(v.address, i, seen, issues)
        if (staking) {
          // PoS: the stake is what the validator bonded; voting power follows it.
          if (v.stake === undefined) issues.push(`/engine/validators/${i}/stake is required with /engine/staking (wei bonded at genesis)`)
          if (v.power !== undefined) issues.push(`/engine/validators/${i}/power is derived from the stake with /engine/staking: leave it out`)
          const stake = v.stake === undefined ? staking.minStake : BigInt(v.stake)
          if (stake < staking.minStake) issues.push(`/engine/validators/${i}/stake ${stake} is below /engine/staking/minStake ${staking.minStake}`)
          const power = stakePower(stake)
          total += power
          return { address, power, stake }
        }
        if (v.power === undefined) issues.push(`/engine/validators/${i}/power is required (or give /engine/staking and a stake)`)
        if (v.stake !== undefined) issues.push(`/engine/validators/${i}/stake needs /engine/staking (a PoS chain)`)
        const power = BigInt(v.power ?? 1)
        total += power
        return { address, power }
      })
      if (total > MAX_TOTAL_POWER) issues.push(`/engine/validators: total power ${total} exceeds 2^60`)
      return {
        type: 'bft',
        validators,
        ...(json.timeouts ? { timeouts: { ...json.timeouts } } : {}),
        ...(staking ? { staking } : {}),
      }
    }
    case 'poh': {
      const seen = new Map<string, number>()
      const staking = stakingFromJSON(json.staking)
      const validators = json.validators.map((v, i) => {
        const address = validatorAddress(v.address, i, seen, issues)
        const stake = BigInt(v.stake)
        if (stake < staking.minStake) issues.push(`/engine/validators/${i}/stake ${stake} is below /engine/staking/minStake ${staking.minStake}`)
        return { address, power: stakePower(stake), stake }
      })
      if (json.validators.length > staking.maxValidators) issues.push(`/engine/validators: ${json.validators.length} validators, more than /engine/staking/maxValidators ${staking.maxValidators}`)
      return {
        type: 'poh',
        validators,
        staking,
        hashesPerTick: json.hashesPerTick,
        ticksPerSlot: json.ticksPerSlot,
        slotsPerEpoch: json.slotsPerEpoch,
        ...(json.minTickMs ? { minTickMs: json.minTickMs } : {}),
      }
    }
  }
}

/** A validator's address: checked for repeats and its EIP-55 checksum (issues name the field). */
function validatorAddress(text: string, i: number, seen: Map<string, number>, issues: string[]): Uint8Array {
  const key = text.toLowerCase()
  const first = seen.get(key)
  if (first !== undefined) issues.push(`/engine/validators/${i}/address repeats the validator at /engine/validators/${first} (${key})`)
  else seen.set(key, i)
  return checkedAddress(text, `/engine/validators/${i}/address`, issues)
}

/** An address whose shape the schema checked, with its EIP-55 checksum checked when it has mixed case. */
function checkedAddress(text: string, path: string, issues: string[]): Uint8Array {
  if (/[a-f]/.test(text.slice(2)) && /[A-F]/.test(text.slice(2)) && !isValidChecksumAddress(text)) {
    issues.push(`${path} "${text}" has a bad EIP-55 checksum (write it all lowercase to skip the check)`)
  }
  return hexToBytes(text.toLowerCase() as `0x${string}`)
}

/** Voting power of a stake: whole ether, at least 1 (the staking contract's votingPowers rule). */
export function stakePower(stake: bigint): bigint {
  const power = stake / 10n ** 18n
  return power > 0n ? power : 1n
}

function stakingFromJSON(json: StakingJSON): StakingSpec {
  return { ...json, minStake: BigInt(json.minStake) }
}

function stakingToJSON(s: StakingSpec): StakingJSON {
  return { ...s, minStake: s.minStake.toString() }
}

// ---- spec -> JSON ----

function engineToJSON(engine: EngineSpec): EngineJSON {
  switch (engine.type) {
    case 'dev':
      return { type: 'dev', automine: engine.automine, intervalMs: engine.intervalMs, ...(engine.signer ? { signer: bytesToHex(engine.signer) } : {}) }
    case 'pow':
      return {
        type: 'pow',
        initialBits: engine.initialBits,
        powLimitBits: engine.powLimitBits,
        retarget: { ...engine.retarget },
        coinbaseMaturity: engine.coinbaseMaturity,
        maxReorgDepth: engine.maxReorgDepth,
        ...(engine.tieBreak !== undefined ? { tieBreak: engine.tieBreak } : {}),
      }
    case 'bft': {
      const validators = engine.validators.map((v) =>
        engine.staking && v.stake !== undefined ? { address: bytesToHex(v.address), stake: v.stake.toString() } : { address: bytesToHex(v.address), power: jsonInt(v.power) },
      )
      return {
        type: 'bft',
        validators,
        ...(engine.timeouts ? { timeouts: { ...engine.timeouts } } : {}),
        ...(engine.staking ? { staking: stakingToJSON(engine.staking) } : {}),
      }
    }
    case 'poh':
      return {
        type: 'poh',
        validators: engine.validators.map((v) => ({ address: bytesToHex(v.address), stake: (v.stake ?? 0n).toString() })),
        staking: stakingToJSON(engine.staking),
        hashesPerTick: engine.hashesPerTick,
        ticksPerSlot: engine.ticksPerSlot,
        slotsPerEpoch: engine.slotsPerEpoch,
        ...(engine.minTickMs ? { minTickMs: engine.minTickMs } : {}),
      }
  }
}

function accountToJSON(account: GenesisAccount): GenesisAccountJSON {
  const json: GenesisAccountJSON = { balance: account.balance.toString() }
  if (account.nonce !== 0n) json.nonce = jsonInt(account.nonce)
  if (account.code !== undefined) json.code = bytesToHex(account.code)
  if (account.storage !== undefined) json.storage = Object.fromEntries(account.storage)
  return json
}

function changesToJSON(changes: ForkChanges): ForkChangesJSON {
  const json: ForkChangesJSON = {}
  if (changes.maxBlockBytes !== undefined) json.maxBlockBytes = changes.maxBlockBytes
  if (changes.blockGasLimit !== undefined) json.blockGasLimit = jsonInt(changes.blockGasLimit)
  if (changes.maxTxBytes !== undefined) json.maxTxBytes = changes.maxTxBytes
  if (changes.chainId !== undefined) json.chainId = jsonInt(changes.chainId)
  if (changes.minGasPrice !== undefined) json.minGasPrice = changes.minGasPrice.toString()
  if (changes.baseFeeBurn !== undefined) json.baseFeeBurn = changes.baseFeeBurn
  return json
}

/** A JSON number when it is exact, else a decimal string. */
function jsonInt(n: bigint): JsonInteger {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= 0n ? Number(n) : n.toString()
}

/** 0x-hex of at most 32 bytes -> lowercase, zero-padded to 32 bytes. */
function word(hex: string): string {
  return `0x${hex.slice(2).toLowerCase().padStart(64, '0')}`
}

/** JSON.parse's message, with a line and column when it gives only a position. */
function jsonErrorText(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : String(err)
  const m = /at position (\d+)/.exec(message)
  if (m === null || /line \d+/.test(message)) return message
  const before = text.replace(/^\uFEFF/, '').slice(0, Number(m[1])).split('\n')
  return `${message} (line ${before.length} column ${(before.at(-1)?.length ?? 0) + 1})`
}
