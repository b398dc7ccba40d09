/**
 * eth_getProof answers from a real node's state, checked as a light client checks them: a
 * funded account, an absent one and an ERC-20's balance slot pass; a lying node's wrong
 * balance, a proof made for another account, a forged storage value, a proof against another
 * block's root and a truncated proof are each refused with an error that names what failed.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, generateAddress, hexToBytes, setLengthLeft, bigIntToBytes } from '@ethereumjs/util'
import { keccak256 } from '../../../../src/crypto/hash.ts'
import { encodeDeployData } from 'viem'
import { ethMethods, type EthBackend } from '../../../../src/api/eth/index.ts'
import { ProofError, verifyAccountProof, type AccountProofJSON } from '../../../../src/sync/light/state-proof.ts'
import { fixtureContract } from '../../../helpers/solc.ts'
import { Signer, addressOf, openTestChain, produceBlock } from '../../../helpers/chain.ts'

const Token = fixtureContract('Token')

describe('light client: state proofs', () => {
  test('true answers pass; every lie is refused with a reason', async () => {
    const t = await openTestChain()
    const s = new Signer(t.common)
    await produceBlock(t, [s.deploy(0, hexToBytes(encodeDeployData({ abi: Token.abi, bytecode: Token.bytecode, args: ['T', 'T', 1000n] })), 2_000_000n)])
    await produceBlock(t, [s.transfer(1, addressOf(7).bytes, 5n)])
    const root = t.chain.head.header.stateRoot
    const token = generateAddress(addressOf(0).bytes, new Uint8Array(0))
    const backend = { chain: t.chain, executor: t.executor, finality: () => ({ finalized: 0n, safe: 0n }), worldAt: (r: Uint8Array) => t.executor.readOnlyWorld(r) } as unknown as EthBackend
    const m = ethMethods(backend)
    const getProof = async (address: Uint8Array, slots: string[] = [], block = 'latest') => (await m.eth_getProof!([bytesToHex(address), slots, block], { transport: 'http' })) as AccountProofJSON

    const alice = await getProof(addressOf(1).bytes)
    const a = await verifyAccountProof(root, addressOf(1).bytes, alice)
    assert.equal(a.balance, BigInt(alice.balance))
    assert.ok(a.nonce === 1n)
    const nobody = hexToBytes(`0x${'ee'.repeat(20)}`)
    const absent = await verifyAccountProof(root, nobody, await getProof(nobody))
    assert.deepEqual([absent.balance, absent.nonce], [0n, 0n], 'an absent account is proven absent')
    // The fixture Token: name, symbol, totalSupply, then balanceOf at slot 3; account 0 minted 1000.
    const slot = bytesToHex(keccak256(new Uint8Array([...setLengthLeft(addressOf(0).bytes, 32), ...setLengthLeft(bigIntToBytes(3n), 32)])))
    const tokenProof = await getProof(token, [slot])
    const verified = await verifyAccountProof(root, token, tokenProof)
    assert.equal(verified.storage.get(slot), BigInt(tokenProof.storageProof[0]!.value))
    assert.ok(verified.storage.get(slot)! > 0n, 'the balance slot holds the minted amount')

    const lies: Array<[string, () => Promise<unknown>, RegExp]> = [
      ['a wrong balance', () => verifyAccountProof(root, addressOf(1).bytes, { ...alice, balance: `0x${(BigInt(alice.balance) + 1n).toString(16)}` }), /balance .* does not match/],
      ['a proof made for another account', async () => verifyAccountProof(root, addressOf(1).bytes, { ...(await getProof(addressOf(2).bytes)), address: bytesToHex(addressOf(1).bytes) }), /does not match|does not lead/],
      ['a proof naming another account', async () => verifyAccountProof(root, addressOf(1).bytes, await getProof(addressOf(2).bytes)), /is for account/],
      ['a forged storage value', () => verifyAccountProof(root, token, { ...tokenProof, storageProof: [{ ...tokenProof.storageProof[0]!, value: '0x1' }] }), /storage value 1 of slot .* does not match/],
      ['a proof from another block', async () => verifyAccountProof(root, addressOf(1).bytes, await getProof(addressOf(1).bytes, [], '0x1')), /does not match|does not lead/],
      ['a truncated proof', () => verifyAccountProof(root, addressOf(1).bytes, { ...alice, accountProof: alice.accountProof.slice(0, 1) }), /does not lead|does not match/],
      ['no proof at all', () => verifyAccountProof(root, addressOf(1).bytes, { ...alice, accountProof: [] }), /no nodes|0 nodes/],
    ]
    for (const [what, lie, pattern] of lies) await assert.rejects(lie(), (err: Error) => err instanceof ProofError && pattern.test(err.message), what)
  })
})
