/**
 * Node 20 lacks `Promise.withResolvers` (ES2024), which several libp2p dependencies call:
 * without it the process crashes as soon as a host starts. Every module of this folder that
 * loads libp2p imports this file first; it installs the method only where it is missing.
 * @module
 */
const P = Promise as unknown as { withResolvers?: () => unknown }
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>(this: PromiseConstructor) {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const promise = new this<T>((res, rej) => ((resolve = res), (reject = rej)))
    return { promise, resolve, reject }
  }
}
export {}
