/**
 * What one JSON-RPC payload (a single request or a whole batch) may spend on heavy work:
 * calls and gas estimation. The payload gets one deadline, so a batch of 20 calls has the time
 * of one call (geth's --rpc.evmtimeout), not twenty; its heavy entries run at most
 * `concurrency` at a time, and one client address has at most `perClient` running or waiting
 * for a call thread over all its payloads and connections, so one client cannot fill the call
 * queue while others wait. Light methods do not use the budget and still run at once.
 * @module
 */
import type { RpcContext } from './server.ts'

export interface WorkBudgetOptions {
  /** Time for all heavy work of one payload, in ms (0 = no limit). */
  timeoutMs: number
  /** Heavy entries of one payload that may run at the same time. */
  concurrency: number
  /** Heavy entries of one client address (all its payloads) that may run or wait for a thread at once. */
  perClient?: number
}

export const DEFAULT_WORK_BUDGET: WorkBudgetOptions = { timeoutMs: 5000, concurrency: 2, perClient: 4 }

/** A counting semaphore. */
class Slots {
  active = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly max: number) {}

  async acquire(): Promise<void> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.active++
  }

  release(): void {
    this.active--
    this.waiting.shift()?.()
  }

  get idle(): boolean {
    return this.active === 0
  }
}

/** Heavy-work slots per client address, shared by every payload of the server. */
export class ClientSlots {
  private readonly byClient = new Map<string, Slots>()

  constructor(private readonly perClient: number) {}

  async run<T>(client: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (client === undefined || this.perClient <= 0) return fn()
    let slots = this.byClient.get(client)
    if (!slots) this.byClient.set(client, (slots = new Slots(this.perClient)))
    await slots.acquire()
    try {
      return await fn()
    } finally {
      slots.release()
      if (slots.idle) this.byClient.delete(client)
    }
  }
}

export class WorkBudget {
  /** ms since the epoch (Date.now()), or undefined when there is no limit. */
  readonly deadline: number | undefined
  private readonly slots: Slots

  constructor(
    o: WorkBudgetOptions,
    private readonly clients?: ClientSlots,
    private readonly client?: string,
    now = Date.now(),
  ) {
    this.deadline = o.timeoutMs > 0 ? now + o.timeoutMs : undefined
    this.slots = new Slots(Math.max(1, o.concurrency))
  }

  /** Runs `fn` when a slot of this payload (and of its client) is free, telling it the payload's deadline. */
  async run<T>(fn: (deadline: number | undefined) => Promise<T>): Promise<T> {
    await this.slots.acquire()
    try {
      return await (this.clients ? this.clients.run(this.client, () => fn(this.deadline)) : fn(this.deadline))
    } finally {
      this.slots.release()
    }
  }
}

/** Runs heavy work under the request's budget (handlers called directly, without a server, have none). */
export function withBudget<T>(ctx: RpcContext | undefined, fn: (deadline: number | undefined) => Promise<T>): Promise<T> {
  return ctx?.budget ? ctx.budget.run(fn) : fn(undefined)
}
