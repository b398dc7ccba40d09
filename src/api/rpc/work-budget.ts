/**
 * What one JSON-RPC payload (a single request or a whole batch) may spend on heavy work:
 * calls and gas estimation. The payload gets one deadline, so a batch of 20 calls has the time
 * of one call (geth's --rpc.evmtimeout), not twenty; and its heavy entries run at most
 * `concurrency` at a time, so one batch cannot take every call thread while others wait.
 * Light methods in the same batch do not use the budget and still run at once.
 * @module
 */
import type { RpcContext } from './server.ts'

export interface WorkBudgetOptions {
  /** Time for all heavy work of one payload, in ms (0 = no limit). */
  timeoutMs: number
  /** Heavy entries of one payload that may run at the same time. */
  concurrency: number
}

export const DEFAULT_WORK_BUDGET: WorkBudgetOptions = { timeoutMs: 5000, concurrency: 2 }

export class WorkBudget {
  /** ms since the epoch (Date.now()), or undefined when there is no limit. */
  readonly deadline: number | undefined
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly o: WorkBudgetOptions, now = Date.now()) {
    this.deadline = o.timeoutMs > 0 ? now + o.timeoutMs : undefined
  }

  /** Runs `fn` when a slot of this payload is free, telling it the payload's deadline. */
  async run<T>(fn: (deadline: number | undefined) => Promise<T>): Promise<T> {
    if (this.active >= Math.max(1, this.o.concurrency)) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.active++
    try {
      return await fn(this.deadline)
    } finally {
      this.active--
      this.waiting.shift()?.()
    }
  }
}

/** Runs heavy work under the request's budget (handlers called directly, without a server, have none). */
export function withBudget<T>(ctx: RpcContext | undefined, fn: (deadline: number | undefined) => Promise<T>): Promise<T> {
  return ctx?.budget ? ctx.budget.run(fn) : fn(undefined)
}
