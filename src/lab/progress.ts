/**
 * Progress lines for long lab work: at most one line a second (and always the last), each
 * saying how far the run is, how fast it goes and when it should end.
 * @module
 */

export interface ProgressCounter {
  /** Adds `n` finished units of work. */
  tick(n?: number): void
  done(): void
}

export function progressCounter(label: string, total: number, print: (line: string) => void, now: () => number = Date.now): ProgressCounter {
  const start = now()
  let done = 0
  let lastPrint = start
  const line = () => {
    const elapsed = (now() - start) / 1000
    const rate = elapsed > 0 ? done / elapsed : 0
    const eta = rate > 0 ? (total - done) / rate : 0
    const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '100.0'
    return `${label}: ${done}/${total} (${pct}%) ${elapsed.toFixed(1)} s${done < total && rate > 0 ? `, about ${eta.toFixed(0)} s left` : ''}`
  }
  return {
    tick(n = 1) {
      done += n
      const t = now()
      if (t - lastPrint >= 1000) {
        lastPrint = t
        print(line())
      }
    },
    done() {
      done = total
      print(line())
    },
  }
}
