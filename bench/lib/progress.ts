/**
 * A progress line on stderr: rewritten in place on a terminal; when stderr is a file or
 * pipe, one line every few seconds instead, so logs stay readable.
 */
import type { Progress } from './load.ts'

const PIPE_EVERY_MS = 5_000

export class ProgressLine {
  private readonly tty = Boolean(process.stderr.isTTY)
  private lastPipeWrite = 0
  private open = false

  /** Shows `text` as the current status. */
  update(text: string): void {
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${text}`)
      this.open = true
    } else if (Date.now() - this.lastPipeWrite >= PIPE_EVERY_MS) {
      this.lastPipeWrite = Date.now()
      process.stderr.write(`${text}\n`)
    }
  }

  /** Ends the status line with `text` (always printed). */
  done(text: string): void {
    process.stderr.write(this.tty ? `\r\x1b[2K${text}\n` : `${text}\n`)
    this.open = false
    this.lastPipeWrite = 0
  }

  /** Prints a normal log line without clobbering the status line. */
  log(text: string): void {
    if (this.open) process.stderr.write('\r\x1b[2K')
    this.open = false
    process.stderr.write(`${text}\n`)
  }
}

export function formatProgress(target: string, p: Progress): string {
  const secs = p.elapsedMs / 1000
  const rate = secs > 0 ? (p.mined / secs).toFixed(0) : '0'
  return `[${target}] sent ${p.sent}/${p.total}  mined ${p.mined}/${p.total}  ${secs.toFixed(1)} s  ${rate} tx/s`
}
