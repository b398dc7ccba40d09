/**
 * Runs async jobs one after another, in the order they were asked for: a job starts when the
 * one before it has settled (resolved or thrown).
 * @module
 */
export class OneAtATime {
  private last: Promise<void> = Promise.resolve()

  async run<T>(job: () => Promise<T>): Promise<T> {
    const before = this.last
    let release!: () => void
    this.last = new Promise<void>((resolve) => (release = resolve))
    await before
    try {
      return await job()
    } finally {
      release()
    }
  }
}
