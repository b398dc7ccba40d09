import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { utf8ToBytes, bytesToUtf8 } from '@ethereumjs/util'
import { LevelStore, MemoryStore, keys, type KeyValueStore } from '../../../src/storage/index.ts'

const k = (s: string) => utf8ToBytes(s)

async function exercise(store: KeyValueStore) {
  await store.batch([
    { type: 'put', key: k('a1'), value: k('one') },
    { type: 'put', key: k('a2'), value: k('two') },
    { type: 'put', key: k('b1'), value: k('three') },
  ])
  assert.equal(bytesToUtf8(store.get(k('a2'))!), 'two')
  assert.equal(store.get(k('zz')), undefined)
  const seen: string[] = []
  for await (const [key] of store.entries({ gte: k('a'), lt: k('b') })) seen.push(bytesToUtf8(key))
  assert.deepEqual(seen, ['a1', 'a2'])
  const rev: string[] = []
  for await (const [key] of store.entries({ gte: k('a'), lt: k('c'), reverse: true, limit: 2 })) rev.push(bytesToUtf8(key))
  assert.deepEqual(rev, ['b1', 'a2'])
  await store.batch([{ type: 'del', key: k('a1') }, { type: 'put', key: k('a3'), value: k('x') }])
  assert.equal(store.get(k('a1')), undefined)
  assert.equal(bytesToUtf8(store.get(k('a3'))!), 'x')
}

describe('key-value stores', () => {
  test('MemoryStore', async () => exercise(new MemoryStore()))

  test('LevelStore on disk, and data survives reopening', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'catena-level-'))
    try {
      const store = await LevelStore.open(dir)
      await exercise(store)
      await store.close()
      const again = await LevelStore.open(dir)
      assert.equal(bytesToUtf8(again.get(k('a3'))!), 'x')
      await assert.rejects(LevelStore.open(dir), /in use by another process/) // LevelDB's lock: one process per datadir
      await again.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('canonical keys sort by height', () => {
    const a = keys.canonical(255n)
    const b = keys.canonical(256n)
    assert.ok(Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0)
  })
})
