import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Address, bytesToHex } from '@ethereumjs/util'
import { Chain } from '../../src/chain/chain.ts'
import { BlockImporter } from '../../src/chain/import.ts'
import { DEV_ACCOUNTS, parseChainSpec } from '../../src/chain/spec/index.ts'
import { decodePowSeal } from '../../src/consensus/pow/seal.ts'
import { PowRules } from '../../src/consensus/pow/rules.ts'
import { meetsTarget, powHash } from '../../src/consensus/pow/pow-hash.ts'
import { compactToTarget } from '../../src/consensus/pow/target.ts'
import { ethereumCustomCrypto, privateKeyToAddress } from '../../src/crypto/secp256k1.ts'
import { Executor, makeCommon } from '../../src/execution/index.ts'
import { MemoryStore } from '../../src/storage/index.ts'
import { deriveKeys, TEST_MNEMONIC } from '../../src/wallet/hd.ts'
import { BenchError } from './errors.ts'
import {
  SENDERS,
  TRIVIAL_BITS,
  buildPowChain,
  describePowChain,
  findCaughtUp,
  mineNonce,
  parsePowSyncArgs,
  powSyncJsonLine,
  powSyncSpec,
  profilePlace,
  recipientAddress,
  renderPowSyncSection,
  segmentRates,
  summarizeCpuProfile,
  transferSlots,
  type CpuProfile,
  type PowSyncResult,
} from './pow-chain.ts'

describe('parsePowSyncArgs', () => {
  test('defaults', () => {
    assert.deepEqual(parsePowSyncArgs([]), { blocks: 10000, txsPerBlock: 5, timeout: 1800, keep: false, out: 'bench/RESULTS.md', help: false })
  })

  test('every option', () => {
    const a = parsePowSyncArgs(['--blocks', '300', '--txs-per-block', '0', '--keep', '--out', '/tmp/r.md', '--timeout', '60', '--cpu-prof', '/tmp/prof'])
    assert.deepEqual(a, { blocks: 300, txsPerBlock: 0, timeout: 60, cpuProf: '/tmp/prof', keep: true, out: '/tmp/r.md', help: false })
    assert.equal(parsePowSyncArgs(['--source', '/tmp/kept']).source, '/tmp/kept')
  })

  test('bad values are BAD_ARGS with the flag named', () => {
    for (const [argv, flag] of [
      [['--blocks', '0'], '--blocks'],
      [['--blocks', '1.5'], '--blocks'],
      [['--txs-per-block', '-1'], 'txs-per-block'],
      [['--txs-per-block', '5000'], '--txs-per-block'],
      [['--nope'], 'nope'],
      [['--cpu-prof', ''], '--cpu-prof'],
      [['--source', '/tmp/x', '--blocks', '10'], '--source'],
    ] as const) {
      assert.throws(
        () => parsePowSyncArgs([...argv]),
        (err: unknown) => err instanceof BenchError && err.code === 'BAD_ARGS' && err.message.includes(flag),
        argv.join(' '),
      )
    }
  })
})

describe('the benchmark chain', () => {
  test('the genesis is the bitcoin-like preset with a trivial target and 1 s blocks, and it parses', () => {
    const json = powSyncSpec()
    const spec = parseChainSpec(json)
    assert.equal(spec.blockTimeMs, 1000)
    assert.equal(spec.chainId, 1340n)
    assert.ok(spec.engine.type === 'pow')
    assert.equal(spec.engine.initialBits, TRIVIAL_BITS)
    assert.equal(spec.engine.powLimitBits, TRIVIAL_BITS)
    assert.deepEqual(spec.engine.retarget, { kind: 'bitcoin', interval: 2016 })
    assert.equal(spec.genesis.timestamp, 1_700_000_000n)
  })

  test('the senders are prefunded accounts of the preset', () => {
    const derived = deriveKeys(TEST_MNEMONIC, SENDERS).map((k) => bytesToHex(privateKeyToAddress(k.privateKey)))
    assert.deepEqual(derived, DEV_ACCOUNTS.slice(0, SENDERS).map((a) => a.toLowerCase()))
  })

  test('mineNonce finds a nonce that meets the target', () => {
    const sealHash = new Uint8Array(32).fill(7)
    const nonce = mineNonce(sealHash, TRIVIAL_BITS)
    assert.ok(meetsTarget(powHash(sealHash, TRIVIAL_BITS, nonce), compactToTarget(TRIVIAL_BITS)))
    assert.throws(() => mineNonce(sealHash, 0x03000001, 10), /no nonce within 10 attempts/)
  })

  test('transfer slots: each sender gets consecutive nonces across blocks', () => {
    assert.deepEqual(transferSlots(1, 3, 2), [
      { sender: 0, nonce: 0n, index: 0 },
      { sender: 1, nonce: 0n, index: 1 },
      { sender: 0, nonce: 1n, index: 2 },
    ])
    assert.deepEqual(transferSlots(2, 3, 2), [
      { sender: 1, nonce: 1n, index: 3 },
      { sender: 0, nonce: 2n, index: 4 },
      { sender: 1, nonce: 2n, index: 5 },
    ])
    assert.deepEqual(transferSlots(7, 0, 2), [])
    const next = new Map<number, bigint>()
    for (let b = 1; b <= 20; b++) {
      for (const s of transferSlots(b, 7, SENDERS)) {
        assert.equal(s.nonce, next.get(s.sender) ?? 0n)
        next.set(s.sender, s.nonce + 1n)
      }
    }
  })

  test('recipients are distinct fresh addresses', () => {
    assert.equal(bytesToHex(recipientAddress(0)), '0xbe00000000000000000000000000000000000000')
    assert.equal(bytesToHex(recipientAddress(258)), '0xbe00000000000000000000000000000000000102')
    const all = new Set(Array.from({ length: 1000 }, (_, i) => bytesToHex(recipientAddress(i))))
    assert.equal(all.size, 1000)
  })

  test('a built chain is valid for a syncing node, across a retarget boundary', async () => {
    // A 10-block retarget interval, so blocks 10 and 20 carry retargeted bits.
    const spec = parseChainSpec(powSyncSpec({ retargetInterval: 10 }))
    const heights: number[] = []
    const sourceStore = new MemoryStore()
    const built = await buildPowChain({ store: sourceStore, spec, blocks: 25, txsPerBlock: 3, onBlock: (h) => heights.push(h) })
    assert.equal(built.height, 25)
    assert.equal(built.txs, 75)
    assert.deepEqual(heights, Array.from({ length: 25 }, (_, i) => i + 1))
    assert.deepEqual(await describePowChain(sourceStore, spec), { ...built, seconds: 0 })

    // Replay every block into a fresh chain through the importer a node uses, with the PoW verifier.
    const source = await Chain.open(sourceStore, spec, makeCommon(spec.chainId, ethereumCustomCrypto()))
    assert.equal(bytesToHex(source.head.hash), built.headHash)
    const common = makeCommon(spec.chainId, ethereumCustomCrypto())
    const store = new MemoryStore()
    const chain = await Chain.open(store, spec, common)
    const executor = new Executor(store, common, (h) => chain.getHashAt(h))
    executor.stateCache.reset(chain.head.header.stateRoot)
    assert.ok(spec.engine.type === 'pow')
    const importer = new BlockImporter(chain, executor, new PowRules(spec.engine, spec.blockTimeMs, chain))
    const bits = new Set<number>()
    for (let h = 1n; h <= 25n; h++) {
      const block = source.getBlockAt(h)!
      assert.equal(block.txs.length, 3)
      assert.equal(block.header.timestamp, spec.genesis.timestamp + h)
      bits.add(decodePowSeal(block.header.seal).bits)
      const outcome = await importer.importBlock(block)
      assert.equal(outcome.status, 'extended')
    }
    assert.equal(bytesToHex(chain.head.hash), bytesToHex(source.head.hash))
    assert.ok(bits.size > 1, 'the retarget changed the bits (blocks 1 s apart measure 9 s against 10 s)')
    const account = await executor.readAccount(chain.head.header.stateRoot, new Address(recipientAddress(74)))
    assert.equal(account?.balance, 1000n + 74n)
  })
})

describe('the syncing node log', () => {
  test('findCaughtUp reads the last caught-up line that reached the head, skipping other and cut lines', () => {
    const log = [
      '{"level":30,"msg":"sync [####----] 40% 40/100 blocks, 20/s"}',
      '{"level":30,"head":60,"hash":"0xaa","seconds":3.5,"msg":"sync: caught up"}',
      'sync: caught up (not JSON)',
      '{"level":30,"head":100,"hash":"0xbb","seconds":5.25,"msg":"sync: caught up"}',
      '"head":100,"msg":"sync: caught up"}',
    ].join('\n')
    assert.deepEqual(findCaughtUp(log), { head: 100, hash: '0xbb', seconds: 5.25 })
    assert.deepEqual(findCaughtUp(log, 100), { head: 100, hash: '0xbb', seconds: 5.25 })
    assert.equal(findCaughtUp(log, 101), undefined)
    assert.equal(findCaughtUp(''), undefined)
  })
})

describe('segmentRates', () => {
  test('rate per stretch of the chain, leaving out the start-up before the first block', () => {
    const samples = [
      { seconds: 0.1, height: 0 },
      { seconds: 2, height: 0 },
      { seconds: 3, height: 10 },
      { seconds: 4, height: 60 },
      { seconds: 6, height: 100 },
      { seconds: 10, height: 160 },
      { seconds: 14, height: 200 },
    ]
    assert.deepEqual(segmentRates(samples, 200, 2), [
      { from: 0, to: 100, blocksPerSec: 30 }, // 10 -> 100 in 3 s
      { from: 100, to: 200, blocksPerSec: 12.5 }, // 100 -> 200 in 8 s
    ])
    // A stretch the samples never reached is left out.
    assert.deepEqual(segmentRates(samples.slice(0, 5), 200, 2), [{ from: 0, to: 100, blocksPerSec: 30 }])
    assert.deepEqual(segmentRates([], 200), [])
  })
})

describe('CPU profile summary', () => {
  test('places', () => {
    assert.equal(profilePlace('file:///work/main/src/chain/import.ts'), 'src/chain/import.ts')
    assert.equal(profilePlace('file:///work/main/node_modules/@ethereumjs/mpt/dist/esm/mpt.js'), 'pkg:@ethereumjs/mpt')
    assert.equal(profilePlace('file:///work/main/node_modules/level/index.js'), 'pkg:level')
    assert.equal(profilePlace('node:internal/streams/readable'), 'node internals')
    assert.equal(profilePlace(''), '(native)')
  })

  test('self and total time per function, recursion counted once, self time per place', () => {
    // root -> a (src/chain/x.ts) -> b (pkg) ; a -> a (recursion) ; root -> (garbage collector)
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 })
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 5] },
        { id: 2, callFrame: frame('a', 'file:///r/src/chain/x.ts'), children: [3, 4] },
        { id: 3, callFrame: { ...frame('b', 'file:///r/node_modules/pkg/i.js'), lineNumber: 4 } },
        { id: 4, callFrame: frame('a', 'file:///r/src/chain/x.ts') },
        { id: 5, callFrame: frame('(garbage collector)', '') },
      ],
      // The time of a sample is the delta to the next one (the last sample has none).
      samples: [3, 3, 4, 2, 5, 3],
      timeDeltas: [0, 1000, 1000, 2000, 1000, 4000],
      startTime: 0,
      endTime: 9000,
    }
    const s = summarizeCpuProfile(profile)
    assert.equal(s.totalMs, 9)
    const fn = (name: string) => s.functions.find((f) => f.name === name)!
    assert.deepEqual([fn('b').selfMs, fn('b').totalMs], [2, 2])
    assert.deepEqual([fn('a').selfMs, fn('a').totalMs], [3, 5]) // 2 ms in the inner a, 1 ms in the outer one
    assert.deepEqual([fn('(garbage collector)').selfMs, fn('(root)').totalMs], [4, 9])
    assert.equal(s.functions[0]!.name, '(garbage collector)')
    assert.equal(fn('a').where, 'src/chain/x.ts')
    assert.equal(fn('b').where, 'pkg:pkg:5')
    assert.deepEqual(s.places, [
      { where: 'GC', selfMs: 4 },
      { where: 'src/chain', selfMs: 3 },
      { where: 'pkg:pkg', selfMs: 2 },
    ])
  })
})

describe('report', () => {
  const result: PowSyncResult = {
    blocks: 10000,
    txsPerBlock: 5,
    txs: 50000,
    buildSeconds: 40.1234,
    seconds: 50.5,
    blocksPerSec: 198.0198,
    txsPerSec: 990.099,
    startupSeconds: 2.3456,
    nodeSeconds: 45,
    nodeBlocksPerSec: 222.22,
    segments: [
      { from: 0, to: 5000, blocksPerSec: 300.04 },
      { from: 5000, to: 10000, blocksPerSec: 150.06 },
    ],
    headHash: '0xabc',
    verified: true,
    profiled: false,
  }
  const machine = { cores: 2, cpu: 'Test CPU', node: 'v20.0.0', platform: 'linux x64', date: '2025-01-01T00:00:00Z' }

  test('one JSON line with rounded numbers', () => {
    assert.deepEqual(JSON.parse(powSyncJsonLine(result)), {
      bench: 'pow-sync',
      blocks: 10000,
      txsPerBlock: 5,
      txs: 50000,
      buildSeconds: 40.123,
      seconds: 50.5,
      blocksPerSec: 198,
      txsPerSec: 990.1,
      startupSeconds: 2.346,
      nodeSeconds: 45,
      nodeBlocksPerSec: 222.2,
      segments: [
        { from: 0, to: 5000, blocksPerSec: 300 },
        { from: 5000, to: 10000, blocksPerSec: 150.1 },
      ],
      headHash: '0xabc',
      verified: true,
      profiled: false,
    })
    assert.equal(JSON.parse(powSyncJsonLine({ ...result, nodeSeconds: undefined, nodeBlocksPerSec: undefined })).nodeSeconds, null)
  })

  test('the section has the numbers, the machine and the command; a profile adds its tables', () => {
    const text = renderPowSyncSection(result, machine, 'node --import tsx bench/pow-sync.ts')
    assert.match(text, /^## PoW sync/)
    assert.match(text, /\| 10000 \| 50000 \| 50\.50 \| \*\*198\*\* \| 990 \| 45\.00 s = \*\*222 blocks\/s\*\* \| yes/)
    assert.match(text, /2 cores \(Test CPU\), Node v20\.0\.0/)
    assert.match(text, /Command \(from the repo root\): `node --import tsx bench\/pow-sync\.ts`/)
    assert.match(text, /Along the chain \(from the polled heights\): blocks 0–5000: 300\/s; blocks 5000–10000: 150\/s\./)
    assert.doesNotMatch(renderPowSyncSection({ ...result, segments: [] }, machine, 'cmd'), /Along the chain/)
    assert.doesNotMatch(text, /profiled|CPU profile|--source/)
    assert.match(text, /into a datadir \(40\.1 s: sign, execute, mine, commit, 249 blocks\/s\)/)
    assert.match(renderPowSyncSection({ ...result, buildSeconds: undefined }, machine, 'cmd'), /by an earlier run \(`--source`\)/)
    const profiled = renderPowSyncSection({ ...result, profiled: true }, machine, 'cmd', {
      totalMs: 1000,
      functions: [{ name: 'put|x', where: 'pkg:level', selfMs: 250, totalMs: 400 }],
      places: [{ where: 'pkg:level', selfMs: 250 }],
    })
    assert.match(profiled, /This run was profiled/)
    assert.match(profiled, /\| pkg:level \| 250 \| 25\.0% \|/)
    assert.match(profiled, /\| put\\\|x \| pkg:level \| 250 \| 400 \|/)
  })
})
