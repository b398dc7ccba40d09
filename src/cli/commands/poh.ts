/**
 * `catena poh calibrate`: measures this machine's single-thread SHA-256 rate in the PoH
 * generator's own loop (on its own thread, as a node runs it) and prints the hashesPerTick that
 * makes a slot of --ticks-per-slot ticks last about --slot-ms.
 * @module
 */
import { InvalidArgumentError, type Command } from 'commander'
import { hashesPerTickFor, measurePohRate } from '../../consensus/poh/calibrate.ts'
import { MAX_TICKS_PER_SLOT } from '../../consensus/poh/slot.ts'

export interface CalibrateResult {
  hashesPerSec: number
  hashes: number
  seconds: number
  ticksPerSlot: number
  slotMs: number
  hashesPerTick: number
}

function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`)
    return n
  }
}

function parseSeconds(value: string): number {
  const n = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > 600) throw new InvalidArgumentError('must be a number of seconds above 0 and at most 600')
  return n
}

function formatRate(hps: number): string {
  return `${(hps / 1e6).toFixed(2)} MH/s`
}

export function formatCalibration(r: CalibrateResult): string {
  const slot = (r.hashesPerTick * r.ticksPerSlot) / r.hashesPerSec
  return [
    `PoH hash rate   ${formatRate(r.hashesPerSec)} (one thread; ${r.hashes.toLocaleString('en-US')} hashes in ${r.seconds.toFixed(2)} s)`,
    `hashesPerTick   ${r.hashesPerTick} (${r.ticksPerSlot} ticks per slot: a slot of ${(r.hashesPerTick * r.ticksPerSlot).toLocaleString('en-US')} hashes lasts ~${Math.round(slot * 1000)} ms here)`,
  ].join('\n')
}

export function registerPohCommands(program: Command): void {
  const poh = program.command('poh').description('Proof of History tools')
  poh
    .command('calibrate')
    .description("measure this machine's PoH hash rate and print the hashesPerTick for a slot of the wanted length")
    .option('--ticks-per-slot <n>', 'ticks in a slot', wholeNumber(1, MAX_TICKS_PER_SLOT), 64)
    .option('--slot-ms <ms>', 'wanted slot length in milliseconds', wholeNumber(1, 3_600_000), 400)
    .option('--seconds <s>', 'how long to measure', parseSeconds, 3)
    .option('--json', 'print the result as JSON')
    .showHelpAfterError(false)
    .action(async (opts: { ticksPerSlot: number; slotMs: number; seconds: number; json?: boolean }) => {
      const tty = Boolean(process.stderr.isTTY) && !opts.json
      const rate = await measurePohRate({
        seconds: opts.seconds,
        onProgress: tty ? (s, hps) => process.stderr.write(`\r\x1b[2Kmeasuring: ${s.toFixed(1)}/${opts.seconds} s  ${formatRate(hps)}`) : undefined,
      })
      if (tty) process.stderr.write('\r\x1b[2K')
      const result: CalibrateResult = {
        hashesPerSec: Math.round(rate.hashesPerSec),
        hashes: rate.hashes,
        seconds: Math.round(rate.seconds * 1000) / 1000,
        ticksPerSlot: opts.ticksPerSlot,
        slotMs: opts.slotMs,
        hashesPerTick: hashesPerTickFor(rate.hashesPerSec, opts.ticksPerSlot, opts.slotMs),
      }
      console.log(opts.json ? JSON.stringify(result, null, 2) : formatCalibration(result))
    })
}
