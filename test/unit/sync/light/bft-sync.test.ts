/**
 * BFT light verification against a permissioned chain of headers whose certificates are
 * really signed (test keys): the validator set is the permissions contract's snapshot, here
 * served by a reader standing in for the proven local call (the proofs are exercised by
 * test/integration/light-client-bft.test.ts). A chain synced from a recent head skips, with
 * bisection where the set changed; past the trust period every header is checked in turn;
 * a certificate with too little power, a fork signed by the set no longer in charge, a source
 * whose chain leaves the verified one: each is refused and the head stays where it was.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import pino from 'pino'
import { encodeFunctionResult } from 'viem'
import { Bloom } from '@ethereumjs/vm'
import { blockHash, type BlockHeader } from '../../../../src/chain/block.ts'
import { BlockError } from '../../../../src/chain/errors.ts'
import { buildGenesis } from '../../../../src/chain/genesis.ts'
import { loadChainSpec, type BftEngineSpec, type ChainSpec } from '../../../../src/chain/spec/index.ts'
import { certificateFromVotes, encodeCertificate, signVote, ValidatorSet, type CommitCertificate } from '../../../../src/consensus/bft/index.ts'
import { encodeSeal } from '../../../../src/consensus/bft-engine/seal.ts'
import { PERMISSIONS_ABI, PERMISSIONS_ADDRESS } from '../../../../src/contracts/index.ts'
import { privateKeyToAddress } from '../../../../src/crypto/secp256k1.ts'
import { makeCommon } from '../../../../src/execution/index.ts'
import { MemoryStore } from '../../../../src/storage/index.ts'
import { BftMembership, type LinkedHeader } from '../../../../src/sync/light/bft-membership.ts'
import { BftHeaderSync } from '../../../../src/sync/light/bft-sync.ts'
import { checkTrustPeriod, isTrusted } from '../../../../src/sync/light/bft-verify.ts'
import { LightHeaderChain } from '../../../../src/sync/light/header-chain.ts'
import { lightRules } from '../../../../src/sync/light/start.ts'
import type { HeaderSource } from '../../../../src/sync/light/header-source.ts'
import { KEYS } from '../../../helpers/chain.ts'

const spec = loadChainSpec('consortium') as ChainSpec & { engine: BftEngineSpec }
const addr = (i: number) => privateKeyToAddress(KEYS[i]!)
const SET_A = [0, 1, 2, 3]
const SET_B = [4, 5, 6, 7]
const silent = pino({ level: 'silent' })

interface Chain {
  headers: BlockHeader[] // index = height
  certs: CommitCertificate[] // index = height (0 unused)
}

function certify(hash: Uint8Array, height: bigint, signers: number[]): CommitCertificate {
  return certificateFromVotes(signers.map((i) => signVote({ type: 'precommit', height, round: 0, blockHash: hash, validator: addr(i) }, KEYS[i]!, spec.chainId)))
}

/** The permissions address in a bloom: the block executed a permissions change. */
function changeBloom(): Uint8Array {
  const b = new Bloom()
  b.add(Uint8Array.from(Buffer.from(PERMISSIONS_ADDRESS.slice(2), 'hex')))
  return b.bitvector
}

/**
 * Headers 1..n after `base`, each signed by `signersAt(h)`; `changeAt` puts the permissions
 * address in that block's bloom (where the set read after it changes).
 */
function extend(base: Chain, n: number, signersAt: (h: bigint) => number[], changeAt?: bigint): Chain {
  const headers = [...base.headers]
  const certs = [...base.certs]
  for (let i = 0; i < n; i++) {
    const parent = headers[headers.length - 1]!
    const height = parent.height + 1n
    const header: BlockHeader = {
      ...parent,
      parentHash: blockHash(parent),
      height,
      timestamp: parent.timestamp + 1n,
      logsBloom: height === changeAt ? changeBloom() : new Uint8Array(256),
      producer: addr(signersAt(height)[0]!),
      extraData: new Uint8Array(0),
      seal: encodeSeal({ round: 0, parentCertificate: height === 1n ? null : certs[Number(height) - 1]! }),
    }
    headers.push(header)
    certs[Number(height)] = certify(blockHash(header), height, signersAt(height))
  }
  return { headers, certs }
}

async function genesisChain(): Promise<Chain> {
  const g = await buildGenesis(spec, new MemoryStore(), makeCommon(spec.chainId))
  return { headers: [g.header], certs: [] }
}

/** A source serving a chain, as a full node answers catena_getHeader / catena_getCommit. */
function sourceOf(c: Chain, url = 'test://source'): HeaderSource {
  return {
    url,
    headNumber: async () => BigInt(c.headers.length - 1),
    headers: async (from, to) => c.headers.slice(Number(from), Number(to) + 1),
    headerByHash: async (hash) => c.headers.find((x) => bytesToHex(blockHash(x)) === bytesToHex(hash)),
    finalityProof: async (height) => (c.certs[Number(height)] ? encodeCertificate(c.certs[Number(height)]!) : null),
  }
}

/** The permissions snapshot() answer naming these validators (power 1 each). */
function snapshotOf(signers: number[]): Uint8Array {
  const hex = encodeFunctionResult({
    abi: PERMISSIONS_ABI,
    functionName: 'snapshot',
    result: [1n, [], signers.map((i) => bytesToHex(addr(i))), signers.map(() => 1n), false, [], false, []],
  } as never)
  return Uint8Array.from(Buffer.from((hex as string).slice(2), 'hex'))
}

function lightFor(c: Chain, opts: { now: bigint; membersAfter: (block: LinkedHeader) => number[]; reads?: bigint[] }) {
  const g = c.headers[0]!
  const chain = new LightHeaderChain(spec, lightRules(spec), { hash: blockHash(g), header: g, work: 0n }, () => opts.now)
  const membership = new BftMembership(spec.engine, spec, async (at) => {
    opts.reads?.push(at.header.height)
    return snapshotOf(opts.membersAfter(at))
  })
  const sync = new BftHeaderSync({ chain, membership, chainId: spec.chainId, trustPeriodSeconds: 3600n, now: () => opts.now, log: silent })
  return { chain, sync }
}

const refused = (code: string, message?: RegExp) => (err: unknown) => err instanceof BlockError && err.code === code && (!message || message.test(err.message))

describe('BFT light verification', () => {
  test('trusting: more than 1/3 of the trusted power, each counted signature checked, others ignored', () => {
    const set = ValidatorSet.create(SET_A.map((i) => ({ address: addr(i), power: 1n })))
    const hash = new Uint8Array(32).fill(7)
    assert.equal(isTrusted(certify(hash, 5n, [0]), hash, set, spec.chainId), false, '1/4 is not enough')
    assert.equal(isTrusted(certify(hash, 5n, [0, 1]), hash, set, spec.chainId), true, '2/4 > 1/3')
    assert.equal(isTrusted(certify(hash, 5n, [0, 4, 5, 6]), hash, set, spec.chainId), false, 'outsiders add nothing')
    const forged = certify(hash, 5n, [0, 1])
    forged.signatures[1] = { validator: forged.signatures[1]!.validator, signature: forged.signatures[0]!.signature }
    assert.throws(() => isTrusted(forged, hash, set, spec.chainId), refused('BAD_PROOF', /is signed by/))
    assert.throws(() => isTrusted(certify(hash, 5n, [0, 1]), new Uint8Array(32), set, spec.chainId), refused('BAD_PROOF', /is for block/))
    assert.throws(() => checkTrustPeriod(9n, 1000n, 100n, 1100n), refused('TRUST_EXPIRED', /--checkpoint/))
    checkTrustPeriod(9n, 1000n, 100n, 1099n)
  })

  test('an honest chain from a recent head: skipping checks, far fewer than the headers', async () => {
    const c = extend(await genesisChain(), 250, () => [0, 1, 2])
    // The genesis is old: the first header is checked by itself, then the head is recent.
    const now = c.headers[250]!.timestamp
    const { chain, sync } = lightFor(c, { now, membersAfter: () => SET_A })
    assert.equal(await sync.syncFrom(sourceOf(c), 250n, 10_000n), 250)
    assert.equal(chain.head.header.height, 250n)
    assert.equal(bytesToHex(chain.head.hash), bytesToHex(blockHash(c.headers[250]!)))
    assert.ok(sync.stats.sequential + sync.stats.skips < 20, `checks: ${JSON.stringify(sync.stats)}`)
  })

  test('past the trust period every header is checked by its own certificate', async () => {
    const c = extend(await genesisChain(), 30, () => [1, 2, 3])
    const { chain, sync } = lightFor(c, { now: c.headers[30]!.timestamp + 100_000n, membersAfter: () => SET_A })
    assert.equal(sync.trustExpired(), true)
    assert.equal(await sync.syncFrom(sourceOf(c), 30n, 10_000n), 30)
    assert.equal(chain.head.header.height, 30n)
    assert.deepEqual(sync.stats, { skips: 0, sequential: 30 })
  })

  test('the set changes: bisection down to where it did, the new set read from the block that changed it', async () => {
    const CHANGE = 60n
    const c = extend(await genesisChain(), 200, (h) => (h <= CHANGE ? [0, 1, 2] : [4, 5, 6]), CHANGE)
    const reads: bigint[] = []
    const membersAfter = (b: LinkedHeader) => (b.header.height >= CHANGE ? SET_B : SET_A)
    const { chain, sync } = lightFor(c, { now: c.headers[200]!.timestamp, membersAfter, reads })
    // First to block 10 (a recent trusted head from then on), then the rest.
    const first = extend({ headers: c.headers.slice(0, 11), certs: c.certs.slice(0, 11) }, 0, () => [])
    await sync.syncFrom(sourceOf(first), 10n, 10_000n)
    assert.equal(await sync.syncFrom(sourceOf(c), 200n, 10_000n), 190)
    assert.equal(chain.head.header.height, 200n)
    assert.deepEqual(reads, [0n, CHANGE], 'read at genesis and after the change only')
  })

  test('a fork signed by the set no longer in charge is refused; the real chain is not', async () => {
    const CHANGE = 20n
    const real = extend(await genesisChain(), 40, (h) => (h <= CHANGE ? [0, 1, 2] : [4, 5, 6]), CHANGE)
    const membersAfter = (b: LinkedHeader) => (b.header.height >= CHANGE ? SET_B : SET_A)
    // The old validators go on signing after the change, on a branch of their own.
    const fork = extend({ headers: real.headers.slice(0, Number(CHANGE) + 1), certs: real.certs.slice(0, Number(CHANGE) + 1) }, 20, () => [0, 1, 2, 3])
    for (const now of [fork.headers[40]!.timestamp, fork.headers[40]!.timestamp + 100_000n]) {
      const { chain, sync } = lightFor(real, { now, membersAfter })
      await sync.syncFrom(sourceOf(real), 20n, 20n)
      assert.equal(chain.head.header.height, CHANGE)
      await assert.rejects(sync.syncFrom(sourceOf(fork), 40n, 10_000n), refused('BAD_PROOF', /is not a validator at height 21/))
      assert.equal(chain.head.header.height, CHANGE, 'nothing of the fork is kept')
      assert.equal(await sync.syncFrom(sourceOf(real), 40n, 10_000n), 20)
    }
  })

  test('a certificate with too little power is refused, in skipping and in sequential checks', async () => {
    const c = extend(await genesisChain(), 12, () => [0, 1, 2])
    const weak = { headers: c.headers, certs: [...c.certs] }
    weak.certs[12] = certify(blockHash(c.headers[12]!), 12n, [0, 1])
    // Skipping from 5: the two signers are trusted (2/4 > 1/3), but not 2/3 of block 12's set.
    // Sequential: headers 6..11 check by their own certificates, 12 does not.
    for (const [now, kept] of [[c.headers[12]!.timestamp, 5n], [c.headers[12]!.timestamp + 100_000n, 11n]] as const) {
      const { chain, sync } = lightFor(c, { now, membersAfter: () => SET_A })
      await sync.syncFrom(sourceOf(c), 5n, 5n)
      await assert.rejects(sync.syncFrom(sourceOf(weak), 12n, 10_000n), refused('BAD_PROOF', /carries 2 of 4 voting power/))
      assert.equal(chain.head.header.height, kept)
    }
  })

  test('a source whose chain leaves the verified one is refused: BFT blocks are final', async () => {
    const c = extend(await genesisChain(), 10, () => [0, 1, 2])
    const other = extend({ headers: c.headers.slice(0, 6), certs: c.certs.slice(0, 6) }, 8, () => [1, 2, 3])
    const { chain, sync } = lightFor(c, { now: c.headers[10]!.timestamp, membersAfter: () => SET_A })
    await sync.syncFrom(sourceOf(c), 10n, 100n)
    await assert.rejects(sync.syncFrom(sourceOf(other), 13n, 100n), refused('BAD_PROOF', /not the verified final block 0x/))
    assert.equal(bytesToHex(chain.head.hash), bytesToHex(blockHash(c.headers[10]!)))
  })
})
