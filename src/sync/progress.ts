import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Chain } from '../chain/chain.ts'

/** A one-line progress bar for logs and terminals: "[######----] 61% 6100/10000 blocks, 850/s". */
export function progressLine(done: bigint, total: bigint, startedAt: number, unit = 'blocks', width = 20): string {
  const fraction = total > 0n ? Number((done * 1000n) / total) / 1000 : 1
  const filled = Math.min(width, Math.round(fraction * width))
  const seconds = (Date.now() - startedAt) / 1000
  const rate = seconds > 0 ? Math.round(Number(done) / seconds) : 0
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(fraction * 100)}% ${done}/${total} ${unit}, ${rate}/s`
}

const PROGRESS_EVERY_MS = 1000

/**
 * The log lines of one catch-up run: 'sync: catching up' when the first peer is looked at, a
 * progress line at most once a second while blocks come in, 'sync: caught up' at the end if
 * the head moved.
 */
export class SyncProgress {
  private readonly startHeight: bigint
  private readonly startedAt = Date.now()
  private lastLog = 0
  private announced = false

  constructor(
    private readonly chain: Chain,
    private readonly log: Logger,
  ) {
    this.startHeight = chain.head.header.height
  }

  /** Catching up from `peer`, which claims a head at `target`. */
  start(peer: string, target: bigint): void {
    if (this.announced) return
    this.announced = true
    this.log.info({ peer, from: Number(this.startHeight + 1n), to: Number(target) }, 'sync: catching up')
  }

  /** Blocks came in; `target` is the height we are heading for as far as we know. */
  tick(target: bigint): void {
    if (Date.now() - this.lastLog < PROGRESS_EVERY_MS) return
    this.lastLog = Date.now()
    const height = this.chain.head.header.height
    const done = height > this.startHeight ? height - this.startHeight : 0n
    const total = target > height ? target - this.startHeight : done
    this.log.info(`sync ${progressLine(done, total, this.startedAt)}`)
  }

  done(): void {
    const { chain } = this
    if (!this.announced) return
    this.log.info({ head: Number(chain.head.header.height), hash: bytesToHex(chain.head.hash), seconds: (Date.now() - this.startedAt) / 1000 }, 'sync: caught up')
  }
}
