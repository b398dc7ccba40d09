import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Account, Address, bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { MerkleStateManager } from '@ethereumjs/statemanager'
import { makeCommon } from '../../../src/execution/index.ts'
import { EMPTY_STATE_ROOT, OverlayState, openWorldState } from '../../../src/state/index.ts'
import { MemoryStore } from '../../../src/storage/index.ts'

const common = makeCommon(1337n)

function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const addr = (i: number) => new Address(setLengthLeft(Uint8Array.of(i + 1), 20))
const slot = (i: number) => setLengthLeft(Uint8Array.of(i), 32)

describe('OverlayState', () => {
  test('its state root equals ethereumjs MerkleStateManager applying the same writes', async () => {
    const random = rng(42)
    const store = new MemoryStore()
    const overlay = new OverlayState(openWorldState(store, EMPTY_STATE_ROOT, common))
    const reference = new MerkleStateManager({ common })
    for (let step = 0; step < 600; step++) {
      const a = addr(Math.floor(random() * 20))
      const r = random()
      if (r < 0.4) {
        // As the EVM does: create with putAccount, update fields of existing accounts.
        const fields = { nonce: BigInt(Math.floor(random() * 5)), balance: BigInt(Math.floor(random() * 1e9)) }
        if ((await reference.getAccount(a)) === undefined) {
          await overlay.putAccount(a, new Account(fields.nonce, fields.balance))
          await reference.putAccount(a, new Account(fields.nonce, fields.balance))
        } else {
          await overlay.modifyAccountFields(a, fields)
          await reference.modifyAccountFields(a, fields)
        }
      } else if (r < 0.8) {
        if ((await reference.getAccount(a)) === undefined) continue
        const value = random() < 0.2 ? new Uint8Array(0) : Uint8Array.of(Math.floor(random() * 255) + 1)
        const s = slot(Math.floor(random() * 8))
        await overlay.putStorage(a, s, value)
        await reference.putStorage(a, s, value)
      } else if (r < 0.9) {
        if ((await reference.getAccount(a)) === undefined) continue
        const code = Uint8Array.of(0x60, Math.floor(random() * 255), 0x00)
        await overlay.putCode(a, code)
        await reference.putCode(a, code)
      } else {
        await overlay.deleteAccount(a)
        // MerkleStateManager keeps a cached storage trie across deleteAccount; the VM clears
        // storage explicitly, so the reference does too.
        await reference.clearStorage(a)
        await reference.deleteAccount(a)
      }
    }
    const root = await overlay.commitToTrie()
    assert.equal(bytesToHex(root), bytesToHex(await reference.getStateRoot()))
  })

  test('revert undoes every write since the checkpoint; commit keeps them', async () => {
    const overlay = new OverlayState(openWorldState(new MemoryStore(), EMPTY_STATE_ROOT, common))
    const a = addr(1)
    await overlay.putAccount(a, new Account(0n, 100n))
    await overlay.putStorage(a, slot(1), Uint8Array.of(5))
    await overlay.checkpoint()
    await overlay.putAccount(a, new Account(1n, 50n))
    await overlay.putStorage(a, slot(1), Uint8Array.of(9))
    await overlay.putStorage(a, slot(2), Uint8Array.of(3))
    await overlay.checkpoint()
    await overlay.clearStorage(a)
    assert.deepEqual(await overlay.getStorage(a, slot(2)), new Uint8Array(0))
    await overlay.revert()
    assert.deepEqual(await overlay.getStorage(a, slot(2)), Uint8Array.of(3))
    await overlay.revert()
    assert.equal((await overlay.getAccount(a))!.balance, 100n)
    assert.deepEqual(await overlay.getStorage(a, slot(1)), Uint8Array.of(5))
    assert.deepEqual(await overlay.getStorage(a, slot(2)), new Uint8Array(0))
    await overlay.checkpoint()
    await overlay.putAccount(a, new Account(2n, 7n))
    await overlay.commit()
    assert.equal((await overlay.getAccount(a))!.nonce, 2n)
  })

  test('accounts returned are copies: mutating one does not change the state', async () => {
    const overlay = new OverlayState(openWorldState(new MemoryStore(), EMPTY_STATE_ROOT, common))
    const a = addr(3)
    await overlay.putAccount(a, new Account(0n, 10n))
    const copy = (await overlay.getAccount(a))!
    copy.balance = 999n
    assert.equal((await overlay.getAccount(a))!.balance, 10n)
  })

  test('committed state is read back through a new overlay at the new root, and old roots stay readable', async () => {
    const store = new MemoryStore()
    const first = openWorldState(store, EMPTY_STATE_ROOT, common)
    const o1 = new OverlayState(first)
    const a = addr(4)
    await o1.putAccount(a, new Account(0n, 1n))
    await o1.putCode(a, hexToBytes('0x6001600055'))
    await o1.putStorage(a, slot(0), Uint8Array.of(0x42))
    const root1 = await o1.commitToTrie()
    await store.batch(first.db.takeOps())

    const second = openWorldState(store, root1, common)
    const o2 = new OverlayState(second)
    assert.deepEqual(await o2.getCode(a), hexToBytes('0x6001600055'))
    assert.deepEqual(await o2.getStorage(a, slot(0)), Uint8Array.of(0x42))
    await o2.putAccount(a, new Account(1n, 2n))
    await o2.clearStorage(a)
    const root2 = await o2.commitToTrie()
    await store.batch(second.db.takeOps())

    const old = openWorldState(store, root1, common).manager
    assert.equal((await old.getAccount(a))!.balance, 1n)
    assert.deepEqual(await old.getStorage(a, slot(0)), Uint8Array.of(0x42))
    const now = openWorldState(store, root2, common).manager
    assert.equal((await now.getAccount(a))!.balance, 2n)
    assert.deepEqual(await now.getStorage(a, slot(0)), new Uint8Array(0))
  })
})
