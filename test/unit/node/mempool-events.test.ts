import { test } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { Writable } from 'node:stream'
import { warnOnEvictions } from '../../../src/node/mempool-events.ts'
import { KEYS, makePool, tx1559 } from '../mempool/helpers.ts'

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>)
      done()
    },
  })
  return { log: pino({ level: 'info' }, sink), lines }
}

const tick = () => new Promise((r) => setImmediate(r))

test('a full pool evicting accepted txs is logged: the first at once, later ones summed per interval', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const { pool } = makePool({ maxTotal: 2 })
  const { log, lines } = capturedLogger()
  const stop = warnOnEvictions(pool, log, 10_000)
  const [a, b, c, d, e] = KEYS as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]
  // Queued txs (nonce gaps) are the first victims of a pending newcomer.
  await pool.add(tx1559(a, { nonce: 5n }).serialize())
  await pool.add(tx1559(b, { nonce: 5n }).serialize())
  await pool.add(tx1559(c, { nonce: 0n }).serialize()) // evicts one queued tx
  await tick()
  assert.equal(lines.length, 1, 'the first eviction is reported at once')
  assert.equal(lines[0]!.evicted, 1)
  assert.match(String(lines[0]!.msg), /txpool full: evicted/)

  await pool.add(tx1559(d, { nonce: 0n }).serialize()) // evicts the other queued tx
  await tick()
  assert.equal(lines.length, 1, 'later evictions wait for the interval')
  t.mock.timers.tick(10_000)
  await tick()
  assert.equal(lines.length, 2)
  assert.equal(lines[1]!.evicted, 1)

  // A refusal (a pool full of pending txs that pay as much) evicts nothing: no new line.
  await assert.rejects(pool.add(tx1559(e, { nonce: 0n }).serialize()), /txpool is full/)
  t.mock.timers.tick(20_000)
  await tick()
  assert.equal(lines.length, 2)
  stop()
})
