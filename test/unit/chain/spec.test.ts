import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, hexToBytes, privateToAddress, toChecksumAddress } from '@ethereumjs/util'
import { deriveKeys, TEST_MNEMONIC } from '../../../src/wallet/hd.ts'
import {
  ChainSpecError,
  DEV_ACCOUNTS,
  chainSpecToJSON,
  listPresets,
  loadChainSpec,
  paramsAt,
  parseChainSpec,
  parseChainSpecText,
} from '../../../src/chain/spec/index.ts'
import type { ChainSpec, ChainSpecJSON } from '../../../src/chain/spec/index.ts'

const ETHER = 10n ** 18n

/** A valid genesis file to break one field at a time. */
function devJSON(): ChainSpecJSON {
  return chainSpecToJSON(loadChainSpec('dev'))
}

/** Mutates a fresh copy of the dev JSON, parses it, and returns the error's issues. */
function issuesOf(mutate: (json: any) => void, source = 'genesis.json'): string[] {
  const json = devJSON()
  mutate(json)
  try {
    parseChainSpec(json, source)
  } catch (err) {
    assert.ok(err instanceof ChainSpecError, `expected ChainSpecError, got ${err}`)
    assert.equal(err.code, 'INVALID_CHAIN_SPEC')
    assert.equal(err.message, `chain spec ${source}: ${err.issues.join('; ')}`)
    return err.issues
  }
  assert.fail('spec was accepted')
}

describe('dev preset', () => {
  test('has the documented parameters', () => {
    const spec = loadChainSpec('dev')
    assert.equal(spec.name, 'dev')
    assert.equal(spec.chainId, 1337n)
    // Signed by test account #0, whose key is public (the node signs with it by default).
    assert.deepEqual(spec.engine, { type: 'dev', automine: true, intervalMs: 0, signer: hexToBytes(DEV_ACCOUNTS[0]) })
    assert.equal(spec.blockTimeMs, 1000)
    assert.deepEqual(spec.limits, { maxBlockBytes: 5 * 1024 * 1024, blockGasLimit: 30_000_000n, maxTxBytes: 128 * 1024 })
    assert.deepEqual(spec.monetary, {
      initialBlockReward: 2n * ETHER,
      halvingInterval: 1_000_000,
      supplyCap: 1_000_000_000n * ETHER,
      baseFeeBurn: true,
      minGasPrice: 1n,
    })
    assert.deepEqual(spec.feeMarket, { initialBaseFee: 1_000_000_000n, adjust: true, elasticityMultiplier: 2n, changeDenominator: 8n })
    assert.equal(spec.genesis.timestamp, 1_700_000_000n)
    assert.deepEqual(spec.genesis.extraData, new Uint8Array(0))
    assert.deepEqual(spec.forks, [])
    assert.deepEqual(listPresets(), ['dev', 'consortium', 'ethereum-like', 'bitcoin-like', 'bitcoin-cash-like', 'solana-like'])
  })

  test("allocates 10,000 ETH to each of the test mnemonic's first 20 accounts (Hardhat/Anvil)", () => {
    const spec = loadChainSpec('dev')
    const derived = deriveKeys(TEST_MNEMONIC, 20).map((k) => toChecksumAddress(bytesToHex(privateToAddress(k.privateKey))))
    assert.equal(derived[0], '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
    assert.equal(derived[19], '0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199')
    assert.deepEqual([...DEV_ACCOUNTS], derived)
    assert.deepEqual([...spec.genesis.alloc.keys()], derived.map((a) => a.toLowerCase()))
    for (const account of spec.genesis.alloc.values()) assert.deepEqual(account, { balance: 10_000n * ETHER, nonce: 0n })
  })

  test('each load returns a fresh spec', () => {
    const a = loadChainSpec('dev')
    a.limits.blockGasLimit = 1n
    a.genesis.alloc.clear()
    const b = loadChainSpec('dev')
    assert.equal(b.limits.blockGasLimit, 30_000_000n)
    assert.equal(b.genesis.alloc.size, 20)
  })
})

describe('genesis files', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'catena-spec-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  const rich = (): ChainSpecJSON => ({
    ...devJSON(),
    name: 'rich',
    chainId: '0x7a69',
    genesis: {
      timestamp: '0x6553f100',
      extraData: '0xcafe',
      alloc: {
        '0x00000000000000000000000000000000000000aa': {
          balance: '0xde0b6b3a7640000',
          nonce: 3,
          code: '0x6001600055',
          storage: { '0x1': '0x2a', ['0x' + '0'.repeat(63) + '2']: '0x' + 'ff'.repeat(32) },
        },
        '0x00000000000000000000000000000000000000bb': { balance: '1' + '0'.repeat(70) },
      },
    },
    monetary: { ...devJSON().monetary, supplyCap: '0x' + 'f'.repeat(64) },
    forks: [
      { name: 'bigger-blocks', height: 100, changes: { maxBlockBytes: 8 * 1024 * 1024, blockGasLimit: '60000000' } },
      { name: 'split', height: '0x3e8', changes: { chainId: 31338, minGasPrice: '0x3b9aca00', baseFeeBurn: false } },
    ],
  })

  test('a file round-trips through chainSpecToJSON to an equal spec', () => {
    for (const spec of [loadChainSpec('dev'), parseChainSpec(rich(), 'rich')]) {
      const path = join(dir, `${spec.name}.json`)
      writeFileSync(path, JSON.stringify(chainSpecToJSON(spec), null, 2))
      const loaded = loadChainSpec(path)
      assert.deepEqual(loaded, spec)
      assert.deepEqual(chainSpecToJSON(loaded), chainSpecToJSON(spec))
    }
  })

  test('amounts may be decimal strings, 0x-hex strings or safe JSON numbers', () => {
    const spec = parseChainSpec(rich(), 'rich')
    assert.equal(spec.chainId, 31337n)
    assert.equal(spec.genesis.timestamp, 1_700_000_000n)
    assert.deepEqual(spec.genesis.extraData, Uint8Array.from([0xca, 0xfe]))
    const a = spec.genesis.alloc.get('0x00000000000000000000000000000000000000aa')
    assert.ok(a)
    assert.equal(a.balance, ETHER)
    assert.equal(a.nonce, 3n)
    assert.deepEqual(a.code, Uint8Array.from([0x60, 0x01, 0x60, 0x00, 0x55]))
    // Slots and values are normalised to lowercase 32-byte hex.
    assert.deepEqual(
      a.storage,
      new Map([
        ['0x' + '0'.repeat(63) + '1', '0x' + '0'.repeat(62) + '2a'],
        ['0x' + '0'.repeat(63) + '2', '0x' + 'ff'.repeat(32)],
      ]),
    )
    assert.equal(spec.genesis.alloc.get('0x00000000000000000000000000000000000000bb')?.balance, 10n ** 70n)
    assert.equal(spec.forks[1]?.height, 1000n)
    for (const blockGasLimit of ['30000000', '0x1c9c380', 30_000_000]) {
      const json = devJSON()
      json.limits.blockGasLimit = blockGasLimit
      assert.equal(parseChainSpec(json).limits.blockGasLimit, 30_000_000n)
    }
  })

  test('missing file, unreadable path and invalid JSON name the path', () => {
    const missing = join(dir, 'nope.json')
    assert.throws(() => loadChainSpec(missing), (err: unknown) => {
      assert.ok(err instanceof ChainSpecError)
      assert.equal(err.code, 'CHAIN_SPEC_NOT_FOUND')
      assert.match(err.message, new RegExp(`^chain spec ${missing}: no such file.*presets: dev`))
      return true
    })
    assert.throws(() => loadChainSpec('mainnet'), { code: 'CHAIN_SPEC_NOT_FOUND', message: /^chain spec mainnet: no such file/ })
    const sub = join(dir, 'a-directory')
    mkdirSync(sub)
    assert.throws(() => loadChainSpec(sub), { code: 'INVALID_CHAIN_SPEC', message: /cannot read the file/ })
    const broken = join(dir, 'broken.json')
    writeFileSync(broken, '{\n  "name": "x",\n  "chainId": 1,,\n}')
    assert.throws(() => loadChainSpec(broken), (err: unknown) => {
      assert.ok(err instanceof ChainSpecError)
      assert.equal(err.code, 'INVALID_CHAIN_SPEC')
      assert.ok(err.message.startsWith(`chain spec ${broken}: invalid JSON: `), err.message)
      assert.match(err.message, /line 3/)
      return true
    })
  })

  test('a file with schema errors reports them with its path', () => {
    const path = join(dir, 'genesis.json')
    const json = devJSON() as any
    json.limits.blockGasLimit = '-5'
    writeFileSync(path, JSON.stringify(json))
    assert.throws(() => loadChainSpec(path), {
      name: 'ChainSpecError',
      code: 'INVALID_CHAIN_SPEC',
      message: `chain spec ${path}: /limits/blockGasLimit must be a positive integer (got "-5")`,
    })
  })

  test('parses text with a byte-order mark', () => {
    const spec = parseChainSpecText('\uFEFF' + JSON.stringify(devJSON()), 'bom.json')
    assert.equal(spec.chainId, 1337n)
  })
})

describe('validation', () => {
  test('names the bad field by JSON path, with the value it got', () => {
    assert.deepEqual(issuesOf((j) => (j.limits.blockGasLimit = '-5')), ['/limits/blockGasLimit must be a positive integer (got "-5")'])
  })

  test('reports every bad field at once', () => {
    const issues = issuesOf((j) => {
      j.chainId = 0
      j.engine.automine = 'yes'
      j.monetary.halvingInterval = -1
      j.feeMarket.elasticityMultiplier = '0x0'
      j.genesis.alloc['0x1234'] = { balance: '1' }
      delete j.blockTimeMs
    })
    assert.deepEqual(issues.sort(), [
      '/blockTimeMs is required',
      '/chainId must be a positive integer (got 0)',
      '/engine/automine must be true or false (got "yes")',
      '/feeMarket/elasticityMultiplier must be a positive integer (got "0x0")',
      '/genesis/alloc key "0x1234" must be a 20-byte 0x-hex address',
      '/monetary/halvingInterval must be a non-negative integer (got -1)',
    ])
  })

  test('dev engine signer: optional, an address with a valid checksum; it round-trips', () => {
    const without = devJSON()
    delete (without.engine as { signer?: string }).signer
    const unsigned = parseChainSpec(without, 'unsigned')
    assert.deepEqual(unsigned.engine, { type: 'dev', automine: true, intervalMs: 0 }, 'a genesis file without a signer keeps unsigned blocks')
    assert.equal('signer' in chainSpecToJSON(unsigned).engine, false, 'and writes none')
    const other = DEV_ACCOUNTS[5]
    const json = devJSON()
    ;(json.engine as { signer?: string }).signer = other
    const spec = parseChainSpec(json, 'signed')
    assert.deepEqual(spec.engine.type === 'dev' && spec.engine.signer, hexToBytes(other.toLowerCase() as `0x${string}`))
    assert.deepEqual(parseChainSpec(chainSpecToJSON(spec), 'again').engine, spec.engine)
    assert.deepEqual(issuesOf((j) => (j.engine.signer = '0x1234')), ['/engine/signer must be a 20-byte 0x-hex address (got "0x1234")'])
    const badChecksum = other.slice(0, -1) + (other.endsWith('c') ? 'C' : 'c')
    assert.deepEqual(issuesOf((j) => (j.engine.signer = badChecksum)), [`/engine/signer "${badChecksum}" has a bad EIP-55 checksum (write it all lowercase to skip the check)`])
  })

  test('rejects unknown fields, naming the allowed ones', () => {
    assert.deepEqual(issuesOf((j) => (j.gasLimit = 1)), [
      '/gasLimit is an unknown field (allowed: name, chainId, engine, blockTimeMs, limits, monetary, feeMarket, genesis, forks, permissions, execution)',
    ])
    const [issue] = issuesOf((j) => (j.forks = [{ name: 'x', height: 5, changes: { initialBlockReward: '1' } }]))
    assert.match(issue ?? '', /^\/forks\/0\/changes\/initialBlockReward is an unknown field \(allowed: maxBlockBytes, .*baseFeeBurn\)$/)
    const first = DEV_ACCOUNTS[0].toLowerCase()
    assert.deepEqual(issuesOf((j) => (j.genesis.alloc[first].balanse = '1')), [
      `/genesis/alloc/${first}/balanse is an unknown field (allowed: balance, nonce, code, storage)`,
    ])
  })

  test('permissions: admins, allowlists and peer ids are checked; the section round-trips', () => {
    const admin = DEV_ACCOUNTS[0].toLowerCase()
    const peer = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
    assert.ok(issuesOf((j) => (j.permissions = { admins: [] }))[0]?.startsWith('/permissions/admins'))
    assert.deepEqual(issuesOf((j) => (j.permissions = { admins: [admin, admin] })), [`/permissions/admins/1 repeats the address at /permissions/admins/0 (${admin})`])
    assert.ok(issuesOf((j) => (j.permissions = { admins: [admin], nodes: ['not-a-peer-id!'] }))[0]?.startsWith('/permissions/nodes/0'))
    assert.deepEqual(issuesOf((j) => (j.permissions = { admins: [admin], nodes: [peer, peer] })), [`/permissions/nodes/1 repeats the peer id ${peer}`])
    assert.deepEqual(issuesOf((j) => (j.permissions = { admins: [admin], extra: 1 })), ['/permissions/extra is an unknown field (allowed: admins, accounts, nodes)'])
    const json = devJSON()
    json.permissions = { admins: [admin], accounts: [], nodes: [peer] }
    const spec = parseChainSpec(json, 'permissioned')
    assert.equal(spec.permissions?.accounts?.length, 0, 'an empty list restricts (only admins)')
    assert.deepEqual(parseChainSpec(chainSpecToJSON(spec), 'again'), spec)
    const open = devJSON()
    open.permissions = { admins: [admin] }
    assert.equal(parseChainSpec(open, 'open').permissions?.accounts, null, 'left out = unrestricted')
  })

  test('execution: { parallel } is a boolean, checked by name; absent means in order; the section round-trips', () => {
    assert.equal(loadChainSpec('dev').execution, undefined, 'the dev preset runs txs in order')
    assert.equal(chainSpecToJSON(loadChainSpec('dev')).execution, undefined, 'and writes no execution section')
    assert.deepEqual(issuesOf((j) => (j.execution = { parallel: 'yes' })), ['/execution/parallel must be true or false (got "yes")'])
    assert.deepEqual(issuesOf((j) => (j.execution = {})), ['/execution/parallel is required'])
    assert.deepEqual(issuesOf((j) => (j.execution = true)), ['/execution must be an object (got true)'])
    assert.deepEqual(issuesOf((j) => (j.execution = { parallel: true, threads: 4 })), ['/execution/threads is an unknown field (allowed: parallel)'])
    for (const parallel of [true, false]) {
      const json = devJSON()
      json.execution = { parallel }
      const spec = parseChainSpec(json, 'parallel')
      assert.deepEqual(spec.execution, { parallel })
      assert.deepEqual(chainSpecToJSON(spec).execution, { parallel })
      assert.deepEqual(parseChainSpec(chainSpecToJSON(spec), 'again'), spec)
    }
  })

  test('unknown engine types list the known ones', () => {
    assert.deepEqual(issuesOf((j) => (j.engine = { type: 'tendermint' })), ['/engine/type must be one of "dev", "bft", "pow", "poh" (got "tendermint")'])
    // A known type names what it lacks.
    assert.deepEqual(issuesOf((j) => (j.engine = { type: 'poh' })), [
      '/engine/validators is required',
      '/engine/staking is required',
      '/engine/hashesPerTick is required',
      '/engine/ticksPerSlot is required',
      '/engine/slotsPerEpoch is required',
    ])
    assert.deepEqual(issuesOf((j) => (j.engine = {})), ['/engine/type is required'])
  })

  test('JSON numbers beyond 2^53 are refused with a hint to use a string', () => {
    const [issue] = issuesOf((j) => (j.monetary.supplyCap = 1e27))
    assert.equal(issue, '/monetary/supplyCap must be a non-negative integer (JSON numbers above 2^53-1 lose precision: write it as a string) (got 1e+27)')
  })

  test('chain id must be positive and below 2^53', () => {
    assert.deepEqual(issuesOf((j) => (j.chainId = String(2n ** 53n))), ['/chainId must be at most 2^53-1 (got "9007199254740992")'])
    assert.ok(parseChainSpec({ ...devJSON(), chainId: String(2n ** 53n - 1n) }).chainId === 2n ** 53n - 1n)
    assert.deepEqual(issuesOf((j) => (j.chainId = '0')), ['/chainId must be a positive integer (got "0")'])
  })

  test('alloc addresses: 20 bytes of hex, valid checksum when mixed case, no repeats', () => {
    assert.deepEqual(issuesOf((j) => (j.genesis.alloc = { ['0x' + 'g'.repeat(40)]: { balance: 1 } })), [
      `/genesis/alloc key "0x${'g'.repeat(40)}" must be a 20-byte 0x-hex address`,
    ])
    assert.deepEqual(issuesOf((j) => (j.genesis.alloc = { ['0x' + '1'.repeat(42)]: { balance: 1 } })), [
      `/genesis/alloc key "0x${'1'.repeat(42)}" must be a 20-byte 0x-hex address`,
    ])
    const badChecksum = '0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
    assert.deepEqual(issuesOf((j) => (j.genesis.alloc = { [badChecksum]: { balance: 1 } })), [
      `/genesis/alloc key "${badChecksum}" has a bad EIP-55 checksum (write it all lowercase to skip the check)`,
    ])
    const good = DEV_ACCOUNTS[0]
    assert.deepEqual(issuesOf((j) => (j.genesis.alloc = { [good]: { balance: 1 }, [good.toLowerCase()]: { balance: 2 } })), [
      `/genesis/alloc key "${good.toLowerCase()}" repeats an address already listed`,
    ])
  })

  test('genesis allocations must fit under the supply cap', () => {
    assert.deepEqual(issuesOf((j) => (j.monetary.supplyCap = String(200_000n * ETHER - 1n))), [
      `/genesis/alloc allocates ${200_000n * ETHER} in total, more than /monetary/supplyCap (${200_000n * ETHER - 1n})`,
    ])
    assert.equal(parseChainSpec({ ...devJSON(), monetary: { ...devJSON().monetary, supplyCap: String(200_000n * ETHER) } }).monetary.supplyCap, 200_000n * ETHER)
  })

  test('forks: strictly increasing heights, unique names, coherent limits', () => {
    assert.deepEqual(
      issuesOf((j) => {
        j.forks = [
          { name: 'a', height: 10, changes: { maxTxBytes: 1000 } },
          { name: 'b', height: 10, changes: { maxTxBytes: 2000 } },
          { name: 'a', height: 5, changes: { baseFeeBurn: false } },
        ]
      }),
      [
        '/forks/1/height must be greater than /forks/0/height (10) (got 10)',
        '/forks/2/name repeats the fork name "a"',
        '/forks/2/height must be greater than /forks/1/height (10) (got 5)',
      ],
    )
    assert.deepEqual(issuesOf((j) => (j.forks = [{ name: 'a', height: 1, changes: { maxBlockBytes: 1000 } }])), [
      '/forks/0/changes: maxTxBytes (131072) must not exceed maxBlockBytes (1000)',
    ])
    assert.deepEqual(issuesOf((j) => (j.forks = [{ name: 'a', height: 1, changes: {} }])), [
      '/forks/0/changes must be an object with at least one parameter change (got {})',
    ])
  })

  test('limits must be usable: a transfer fits in a block, a tx fits in a block', () => {
    assert.deepEqual(issuesOf((j) => (j.limits.blockGasLimit = 20_999)), [
      '/limits/blockGasLimit must be at least 21000, the gas of one plain transfer (got 20999)',
    ])
    assert.deepEqual(issuesOf((j) => (j.limits.maxTxBytes = j.limits.maxBlockBytes + 1)), [
      `/limits: maxTxBytes (${5 * 1024 * 1024 + 1}) must not exceed maxBlockBytes (${5 * 1024 * 1024})`,
    ])
    assert.deepEqual(issuesOf((j) => (j.genesis.extraData = '0x' + '00'.repeat(33))), [
      `/genesis/extraData must be at most 32 bytes of 0x-hex (got "0x${'00'.repeat(27)}...)`,
    ])
  })

  test('amounts are bounded by what the chain can represent', () => {
    const first = DEV_ACCOUNTS[0].toLowerCase()
    const issues = issuesOf((j) => {
      j.genesis.alloc[first] = { balance: String(2n ** 256n), nonce: String(2n ** 64n - 1n) }
      j.limits.blockGasLimit = String(2n ** 63n)
      j.genesis.timestamp = '0x10000000000000000'
    })
    assert.match(issues.pop() ?? '', /^\/genesis\/alloc allocates \d+ in total, more than \/monetary\/supplyCap/)
    assert.deepEqual(
      issues,
      [
        `/limits/blockGasLimit must be at most 2^63-1 (got "${2n ** 63n}")`,
        '/genesis/timestamp must be at most 2^64-1 (got "0x10000000000000000")',
        `/genesis/alloc/${first}/balance must be at most 2^256-1 (got "${String(2n ** 256n).slice(0, 56)}...)`,
        `/genesis/alloc/${first}/nonce must be at most 2^64-2 (got "${2n ** 64n - 1n}")`,
      ],
    )
  })

  test('rejects non-objects and leaves the input untouched', () => {
    assert.deepEqual(issuesOf((j) => (j.limits = 5)), ['/limits must be an object (got 5)'])
    assert.throws(() => parseChainSpec([1], 'x'), { message: 'chain spec x: the spec must be an object (got [1])' })
    const json = devJSON() as any
    json.limits.maxTxBytes = 'big'
    const before = structuredClone(json)
    assert.throws(() => parseChainSpec(json))
    assert.deepEqual(json, before)
  })
})

describe('paramsAt', () => {
  const spec: ChainSpec = parseChainSpec({
    ...devJSON(),
    forks: [
      { name: 'bigger-blocks', height: 100, changes: { maxBlockBytes: 8_000_000, blockGasLimit: 60_000_000 } },
      { name: 'replay-split', height: 200, changes: { chainId: 7331, minGasPrice: '5', baseFeeBurn: false } },
      { name: 'smaller-txs', height: 300, changes: { maxTxBytes: 1024 } },
    ],
  })

  test('genesis parameters apply below the first fork', () => {
    for (const h of [0n, 99n, 0, 99]) {
      const p = paramsAt(spec, h)
      assert.equal(p.chainId, 1337n)
      assert.deepEqual(p.limits, spec.limits)
      assert.deepEqual(p.monetary, spec.monetary)
      assert.deepEqual(p.feeMarket, spec.feeMarket)
      assert.deepEqual(p.activeForks, [])
    }
  })

  test('each fork applies from its height on, in order, on top of earlier ones', () => {
    const at100 = paramsAt(spec, 100n)
    assert.deepEqual(at100.limits, { maxBlockBytes: 8_000_000, blockGasLimit: 60_000_000n, maxTxBytes: 128 * 1024 })
    assert.deepEqual(at100.activeForks, ['bigger-blocks'])
    const at250 = paramsAt(spec, 250n)
    assert.equal(at250.chainId, 7331n)
    assert.equal(at250.monetary.minGasPrice, 5n)
    assert.equal(at250.monetary.baseFeeBurn, false)
    assert.equal(at250.monetary.initialBlockReward, 2n * ETHER)
    assert.equal(at250.limits.blockGasLimit, 60_000_000n)
    assert.deepEqual(at250.activeForks, ['bigger-blocks', 'replay-split'])
    const at1e9 = paramsAt(spec, 10n ** 9n)
    assert.deepEqual(at1e9.limits, { maxBlockBytes: 8_000_000, blockGasLimit: 60_000_000n, maxTxBytes: 1024 })
    assert.deepEqual(at1e9.activeForks, ['bigger-blocks', 'replay-split', 'smaller-txs'])
  })

  test('does not change the spec and rejects negative heights', () => {
    const copy = structuredClone(spec)
    paramsAt(spec, 1000n).limits.maxTxBytes = 1
    assert.deepEqual(spec, copy)
    assert.throws(() => paramsAt(spec, -1n), { code: 'INVALID_ARGUMENT' })
  })
})

describe('solana-like preset and the poh engine section', () => {
  const solana = () => chainSpecToJSON(loadChainSpec('solana-like'))
  const pohIssues = (mutate: (engine: any) => void): string[] => {
    const json = solana() as any
    mutate(json.engine)
    try {
      parseChainSpec(json, 'genesis.json')
    } catch (err) {
      assert.ok(err instanceof ChainSpecError)
      return err.issues
    }
    return []
  }

  test('the preset: 4 validators staking 40/30/20/10 ETH, 64 ticks a slot, paced to 400 ms slots, parallel execution; round-trips', () => {
    const spec = loadChainSpec('solana-like')
    assert.equal(spec.engine.type, 'poh')
    if (spec.engine.type !== 'poh') return
    assert.deepEqual(spec.engine.validators.map((v) => v.stake), [40n, 30n, 20n, 10n].map((e) => e * ETHER))
    assert.equal(spec.engine.ticksPerSlot, 64)
    assert.equal(spec.engine.ticksPerSlot * spec.engine.minTickMs!, 400)
    assert.equal(spec.execution?.parallel, true)
    assert.deepEqual(parseChainSpec(solana()), spec)
  })

  test('bad poh parameters are named', () => {
    assert.deepEqual(pohIssues((e) => (e.slotsPerEpoch = 30)), ['/engine/slotsPerEpoch must be a multiple of 4 from 32 to 2^22 (got 30)'])
    assert.deepEqual(pohIssues((e) => (e.hashesPerTick = 1)), ['/engine/hashesPerTick must be an integer from 2 to 2^30 (measure with `catena poh calibrate`) (got 1)'])
    assert.deepEqual(pohIssues((e) => (e.validators[1].stake = '1')), [`/engine/validators/1/stake 1 is below /engine/staking/minStake ${ETHER}`])
    assert.deepEqual(pohIssues((e) => (e.validators[1].address = e.validators[0].address)), [`/engine/validators/1/address repeats the validator at /engine/validators/0 (${DEV_ACCOUNTS[0]!.toLowerCase()})`])
    assert.deepEqual(pohIssues((e) => (e.minTickMs = -1)), ['/engine/minTickMs must be a number of ms from 0 to 60000 (got -1)'])
  })
})
