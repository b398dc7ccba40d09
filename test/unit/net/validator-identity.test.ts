/**
 * Validator identity claims over real libp2p hosts: a validator proves which validator it is
 * by signing its own peer id and the chain; the asker checks the claim against the peer id
 * libp2p authenticated. Forged claims (signed by another key, made for another peer id, or for
 * another chain) are refused and cost the peer; a claim is checked again after a reconnect.
 */
import '../../../src/net/polyfill.ts'
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import pino from 'pino'
import { privateKeyToAddress } from '../../../src/crypto/secp256k1.ts'
import {
  IdentityClaimError,
  PENALTY,
  ValidatorIdentities,
  signIdentityClaim,
  verifyIdentityClaim,
  type Network,
} from '../../../src/net/index.ts'
import { TEST_MNEMONIC, deriveKeys } from '../../../src/wallet/hd.ts'
import { CHAIN_ID, GENESIS, OTHER_GENESIS, startNode, waitFor } from './helpers.ts'

const [VALIDATOR, ATTACKER] = deriveKeys(TEST_MNEMONIC, 2).map((k) => k.privateKey) as [Uint8Array, Uint8Array]
const VALIDATOR_ADDRESS = privateKeyToAddress(VALIDATOR)
const silent = pino({ level: 'silent' })
const ctx = (peerId: string, genesisHash = GENESIS, chainId = CHAIN_ID) => ({ chainId, genesisHash, peerId })

/** Identities on `net`, stopped before the network when the test ends. */
async function identities(t: TestContext, net: Network, privateKey?: Uint8Array): Promise<ValidatorIdentities> {
  const ids = new ValidatorIdentities({ network: net, chainId: CHAIN_ID, genesisHash: GENESIS, ...(privateKey ? { privateKey } : {}), log: silent, retryDelaysMs: [50, 100, 200] })
  await ids.start()
  t.after(() => ids.stop())
  return ids
}

function forged(code: 'FORGED' | 'MALFORMED') {
  return (err: unknown) => err instanceof IdentityClaimError && err.code === code
}

describe('validator identity claims (codec)', () => {
  const peer = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'
  const other = '12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9XC4BAmbwE2Pr'

  test('a claim verifies for its peer id and chain, and names the signer', () => {
    const claim = signIdentityClaim(VALIDATOR, ctx(peer))
    assert.deepEqual(verifyIdentityClaim(claim, ctx(peer)), VALIDATOR_ADDRESS)
  })

  test('a claim for another peer id, chain id or genesis, or naming another address, is forged', () => {
    const claim = signIdentityClaim(VALIDATOR, ctx(peer))
    assert.throws(() => verifyIdentityClaim(claim, ctx(other)), forged('FORGED'))
    assert.throws(() => verifyIdentityClaim(claim, ctx(peer, OTHER_GENESIS)), forged('FORGED'))
    assert.throws(() => verifyIdentityClaim(claim, ctx(peer, GENESIS, CHAIN_ID + 1n)), forged('FORGED'))
    const [, signature] = RLP.decode(signIdentityClaim(ATTACKER, ctx(peer))) as Uint8Array[]
    assert.throws(() => verifyIdentityClaim(RLP.encode([VALIDATOR_ADDRESS, signature!]), ctx(peer)), forged('FORGED'))
  })

  test('bytes that are not a claim are malformed', () => {
    assert.throws(() => verifyIdentityClaim(Uint8Array.of(0xff), ctx(peer)), forged('MALFORMED'))
    assert.throws(() => verifyIdentityClaim(RLP.encode([VALIDATOR_ADDRESS]), ctx(peer)), forged('MALFORMED'))
    assert.throws(() => verifyIdentityClaim(RLP.encode([VALIDATOR_ADDRESS, new Uint8Array(64)]), ctx(peer)), forged('MALFORMED'))
    assert.throws(() => verifyIdentityClaim(RLP.encode([new Uint8Array(19), new Uint8Array(65)]), ctx(peer)), forged('MALFORMED'))
  })
})

describe('validator identity over the network', () => {
  test('a validator proves its address; a node without a key claims none; a reconnect is checked again', async (t) => {
    const limits = { scoreDecayPerMinute: 0 }
    const validator = await startNode(t, { limits })
    const vIds = await identities(t, validator.net, VALIDATOR)
    const node = await startNode(t, { bootnodes: validator.net.multiaddrs(), limits })
    const nIds = await identities(t, node.net)
    await waitFor(() => nIds.addressOf(validator.net.peerId) !== undefined, 'the node to learn the validator identity')
    assert.deepEqual(nIds.addressOf(validator.net.peerId), VALIDATOR_ADDRESS)
    assert.deepEqual(nIds.peersOf(VALIDATOR_ADDRESS), [validator.net.peerId])
    await waitFor(() => node.logs.includes('request refused'), 'the node to answer that it is no validator')
    assert.equal(vIds.addressOf(node.net.peerId), undefined)
    assert.equal(vIds.size, 0)
    assert.equal(node.net.penaltyOf(validator.net.peerId), 0)
    assert.equal(validator.net.penaltyOf(node.net.peerId), 0)

    // Gone: forgotten at once; back: asked and checked again.
    await node.net.disconnect(validator.net.peerId)
    await waitFor(() => nIds.addressOf(validator.net.peerId) === undefined, 'the identity to be forgotten on disconnect')
    assert.deepEqual(nIds.peersOf(VALIDATOR_ADDRESS), [])
    await node.net.connect(validator.net.multiaddrs()[0]!)
    await waitFor(() => nIds.addressOf(validator.net.peerId) !== undefined, 'the identity to be proved again after the reconnect')
  })

  test('forged claims are refused and penalized: another key, another peer id, another chain, garbage', async (t) => {
    const limits = { scoreDecayPerMinute: 0 }
    const node = await startNode(t, { limits })
    const ids = await identities(t, node.net)
    // The real validator, to copy its claim from.
    const validator = await startNode(t, { limits })
    await identities(t, validator.net, VALIDATOR)
    const genuine = signIdentityClaim(VALIDATOR, ctx(validator.net.peerId))

    const answers: Record<string, (peerId: string) => Uint8Array> = {
      // Names the validator, signed by the attacker's own key (over the attacker's peer id).
      'signed by another key': (peerId) => {
        const [, signature] = RLP.decode(signIdentityClaim(ATTACKER, ctx(peerId))) as Uint8Array[]
        return RLP.encode([VALIDATOR_ADDRESS, signature!])
      },
      // The validator's real claim, replayed: it is for the validator's peer id.
      'for another peer id': () => genuine,
      // Signed by the validator key, for the attacker's peer id, but on another chain.
      'for another chain': (peerId) => signIdentityClaim(VALIDATOR, ctx(peerId, OTHER_GENESIS)),
      garbage: () => Uint8Array.of(0xc3, 0x01, 0x02),
    }
    const attackers: Record<string, Network> = {}
    for (const [name, answer] of Object.entries(answers)) {
      const attacker = await startNode(t, { limits })
      await attacker.net.handle('validatorIdentity', () => answer(attacker.net.peerId))
      attackers[name] = attacker.net
      await attacker.net.connect(node.net.multiaddrs()[0]!)
    }
    await node.net.connect(validator.net.multiaddrs()[0]!)
    const expected = (name: string) => (name === 'garbage' ? PENALTY.malformed : PENALTY.forgedIdentity)
    await waitFor(
      () => Object.entries(attackers).every(([name, a]) => node.net.penaltyOf(a.peerId) === expected(name)),
      'every forged claim to be refused and penalized',
    )
    await waitFor(() => ids.addressOf(validator.net.peerId) !== undefined, 'the real validator to be known')
    for (const a of Object.values(attackers)) assert.equal(ids.addressOf(a.peerId), undefined)
    assert.deepEqual(ids.peersOf(VALIDATOR_ADDRESS), [validator.net.peerId], 'only the real validator runs its address')
    assert.equal(node.net.penaltyOf(validator.net.peerId), 0)
  })
})
