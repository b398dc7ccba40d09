import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { hashesPerTickFor } from '../../../../src/consensus/poh/calibrate.ts'
import { formatCalibration } from '../../../../src/cli/commands/poh.ts'
import { assertFails, catena } from '../../../helpers/cli.ts'

describe('catena poh calibrate', () => {
  it('measures the PoH thread and prints hashesPerTick for the wanted slot as JSON', async () => {
    const r = await catena(['poh', 'calibrate', '--seconds', '0.3', '--ticks-per-slot', '32', '--slot-ms', '200', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as Record<string, number>
    assert.ok(out.hashesPerSec! > 0 && out.hashes! > 0)
    assert.equal(out.ticksPerSlot, 32)
    assert.equal(out.slotMs, 200)
    // The printed rate is rounded; the tick follows from the unrounded one, so allow one off.
    assert.ok(Math.abs(out.hashesPerTick! - hashesPerTickFor(out.hashesPerSec!, 32, 200)) <= 1)
  })

  it('refuses bad options with one error line', async () => {
    assertFails(await catena(['poh', 'calibrate', '--slot-ms', '0']), /--slot-ms.*whole number from 1/, '--slot-ms 0')
    assertFails(await catena(['poh', 'calibrate', '--ticks-per-slot', 'x']), /--ticks-per-slot.*whole number/, '--ticks-per-slot x')
  })

  it('prints the rate and the tick in words', () => {
    const text = formatCalibration({ hashesPerSec: 3_200_000, hashes: 9_600_000, seconds: 3, ticksPerSlot: 64, slotMs: 400, hashesPerTick: 20_000 })
    assert.match(text, /PoH hash rate\s+3\.20 MH\/s/)
    assert.match(text, /hashesPerTick\s+20000 \(64 ticks per slot: a slot of 1,280,000 hashes lasts ~400 ms here\)/)
  })
})
