/**
 * Evidence of a leader signing two blocks for one slot: detection, canonical form, pure
 * verification against a real leader schedule, the slash call it becomes, and hostile
 * evidence refused with typed errors.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { decodeFunctionData } from 'viem'
import { STAKING_ABI } from '../../../../src/contracts/index.ts'
import {
  MAX_EVIDENCE_BYTES,
  decodeDuplicateBlock,
  duplicateBlockEvidence,
  duplicateBlockHash,
  duplicateBlockOffence,
  duplicateBlockSlashCall,
  encodeDuplicateBlock,
  isDuplicateBlock,
  signSlotBlock,
  verifyDuplicateBlock,
  verifySlotBlockSignature,
  type DuplicateBlockCheckOptions,
} from '../../../../src/consensus/poh/duplicate-block.ts'
import { LeaderSchedule, epochSeed } from '../../../../src/consensus/poh/leader-schedule.ts'
import { DuplicateBlockError } from '../../../../src/consensus/poh/voting-errors.ts'
import { CHAIN_ID, addressOf, hash, hex, keys, stakeSet, throwsCode } from './voting-fixtures.ts'

const ks = keys(3, 'duplicate block')
const stakes = stakeSet(ks.map((k, i) => [addressOf(k), BigInt(i + 1) * 10n]))
const schedule = LeaderSchedule.compute({ epoch: 0n, stakes, seed: epochSeed(0n, hash('genesis')), slotsPerEpoch: 64 })
const SLOT = 9n
const leader = schedule.leaderAt(SLOT)
const leaderKey = ks.find((k) => hex(addressOf(k)) === hex(leader))!
const otherKey = ks.find((k) => hex(addressOf(k)) !== hex(leader))!
const opts: DuplicateBlockCheckOptions = { chainId: CHAIN_ID, leaderAt: (slot) => (schedule.contains(slot) ? schedule.leaderAt(slot) : undefined) }

function signed(blockLabel: string, key = leaderKey, slot = SLOT, chainId = CHAIN_ID) {
  return signSlotBlock({ leader: addressOf(key), slot, blockHash: hash(blockLabel) }, key, chainId)
}

describe('duplicate-block evidence', () => {
  test('a leader signature on a block verifies; on another chain or by another key it does not', () => {
    verifySlotBlockSignature(signed('x'), CHAIN_ID)
    throwsCode(() => verifySlotBlockSignature(signed('x'), CHAIN_ID + 1n), DuplicateBlockError, 'BAD_SIGNATURE')
    const forged = { ...signed('x', otherKey), leader }
    throwsCode(() => verifySlotBlockSignature(forged, CHAIN_ID), DuplicateBlockError, 'BAD_SIGNATURE')
  })

  test('two blocks one leader signed for one slot: verified, canonical in either order, named for slashing', () => {
    const x = signed('x')
    const y = signed('y')
    assert.equal(isDuplicateBlock(x, y), true)
    assert.equal(isDuplicateBlock(x, x), false)
    assert.equal(isDuplicateBlock(x, signed('y', leaderKey, SLOT + 1n)), false)
    const e1 = duplicateBlockEvidence(x, y)
    const e2 = duplicateBlockEvidence(y, x)
    assert.equal(hex(encodeDuplicateBlock(e1)), hex(encodeDuplicateBlock(e2)))
    assert.equal(hex(duplicateBlockHash(e1)), hex(duplicateBlockHash(e2)))
    const check = verifyDuplicateBlock(e1, { ...opts, currentSlot: 20n, maxAgeSlots: 100n })
    assert.deepEqual([hex(check.leader), check.slot], [hex(leader), SLOT])
    assert.equal(duplicateBlockOffence(e1), `${hex(leader)}/${SLOT}`)
    const call = decodeFunctionData({ abi: STAKING_ABI, data: `0x${hex(duplicateBlockSlashCall(e1))}` })
    assert.equal(call.functionName, 'slash')
    const [validator, height, round] = call.args as [string, bigint, bigint]
    assert.deepEqual([validator.toLowerCase(), height, round], [`0x${hex(leader)}`, SLOT, 0n], 'slash(leader, slot, 0)')
  })

  test('encode/decode round-trips; decoding checks shape, pairing and order', () => {
    const ev = duplicateBlockEvidence(signed('x'), signed('y'))
    const bytes = encodeDuplicateBlock(ev)
    const back = decodeDuplicateBlock(bytes)
    verifyDuplicateBlock(back, opts)
    assert.equal(hex(encodeDuplicateBlock(back)), hex(bytes))
    const f = RLP.decode(bytes) as Uint8Array[]
    const swapped = RLP.encode([f[0], f[1], f[4], f[5], f[2], f[3]])
    throwsCode(() => decodeDuplicateBlock(swapped), DuplicateBlockError, 'NOT_CANONICAL')
    const same = RLP.encode([f[0], f[1], f[2], f[3], f[2], f[3]])
    throwsCode(() => decodeDuplicateBlock(same), DuplicateBlockError, 'NOT_CONFLICTING')
    const bad: Uint8Array[] = [
      new Uint8Array(),
      Uint8Array.of(0xc1),
      RLP.encode(f.slice(0, 5)),
      RLP.encode([new Uint8Array(19), ...f.slice(1)]),
      RLP.encode([f[0], Uint8Array.of(0, 9), ...f.slice(2)]),
      RLP.encode([f[0], f[1], new Uint8Array(31), ...f.slice(3)]),
      RLP.encode([...f.slice(0, 5), new Uint8Array(64)]),
      new Uint8Array(MAX_EVIDENCE_BYTES + 1),
    ]
    for (const b of bad) throwsCode(() => decodeDuplicateBlock(b), DuplicateBlockError, 'MALFORMED')
  })

  test('not one offence: different slots or leaders, or the same block', () => {
    throwsCode(() => duplicateBlockEvidence(signed('x'), signed('x')), DuplicateBlockError, 'NOT_CONFLICTING')
    throwsCode(() => duplicateBlockEvidence(signed('x'), signed('y', leaderKey, SLOT + 1n)), DuplicateBlockError, 'DO_NOT_MATCH')
    throwsCode(() => duplicateBlockEvidence(signed('x'), signed('y', otherKey)), DuplicateBlockError, 'DO_NOT_MATCH')
  })

  test('hostile evidence: not the leader, unknown slot, bad signature, order, window', () => {
    const notLeader = duplicateBlockEvidence(signed('x', otherKey), signed('y', otherKey))
    throwsCode(() => verifyDuplicateBlock(notLeader, opts), DuplicateBlockError, 'NOT_LEADER')
    const unknown = duplicateBlockEvidence(signed('x', leaderKey, 1000n), signed('y', leaderKey, 1000n))
    throwsCode(() => verifyDuplicateBlock(unknown, opts), DuplicateBlockError, 'UNKNOWN_SLOT')
    const ev = duplicateBlockEvidence(signed('x'), signed('y'))
    // A hash the leader never signed, kept in canonical order so only the signature can fail.
    const z = { ...ev.b, blockHash: hash('z') }
    const tampered = hex(z.blockHash) < hex(ev.a.blockHash) ? { a: z, b: ev.a } : { a: ev.a, b: z }
    throwsCode(() => verifyDuplicateBlock(tampered, opts), DuplicateBlockError, 'BAD_SIGNATURE')
    const otherChain = duplicateBlockEvidence(signed('x', leaderKey, SLOT, CHAIN_ID + 1n), signed('y', leaderKey, SLOT, CHAIN_ID + 1n))
    throwsCode(() => verifyDuplicateBlock(otherChain, opts), DuplicateBlockError, 'BAD_SIGNATURE')
    throwsCode(() => verifyDuplicateBlock({ a: ev.b, b: ev.a }, opts), DuplicateBlockError, 'NOT_CANONICAL')
    throwsCode(() => verifyDuplicateBlock(ev, { ...opts, currentSlot: SLOT - 1n }), DuplicateBlockError, 'FUTURE')
    throwsCode(() => verifyDuplicateBlock(ev, { ...opts, currentSlot: SLOT + 101n, maxAgeSlots: 100n }), DuplicateBlockError, 'EXPIRED')
    verifyDuplicateBlock(ev, { ...opts, currentSlot: SLOT + 100n, maxAgeSlots: 100n })
    throwsCode(() => verifyDuplicateBlock(null as never, opts), DuplicateBlockError, 'MALFORMED')
    throwsCode(() => verifyDuplicateBlock({ a: { ...ev.a, signature: undefined as never }, b: ev.b }, opts), DuplicateBlockError, 'MALFORMED')
    assert.equal(new DuplicateBlockError('FUTURE', 'x').penalty, 0)
    assert.ok(new DuplicateBlockError('BAD_SIGNATURE', 'x').penalty > 0)
  })
})
