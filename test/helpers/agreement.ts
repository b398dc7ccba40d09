/**
 * Safety checks over RPC for multi-node tests: no two nodes may ever report different blocks
 * at the same height (BFT blocks are final when committed), or different final blocks (PoH). `assertAgreement` compares every
 * height the given nodes share, now; `AgreementWatch` keeps checking in the background for a
 * whole test, across kills and restarts, remembering the first block seen at each height.
 */
import assert from 'node:assert/strict'
import type { NodeProcess } from './node-process.ts'

type Hex = `0x${string}`

const heightOf = async (n: NodeProcess) => BigInt(await n.rpc<Hex>('eth_blockNumber'))
const finalizedOf = async (n: NodeProcess) => BigInt((await n.rpc<{ number: Hex }>('eth_getBlockByNumber', ['finalized', false])).number)
const hashAt = (n: NodeProcess, h: bigint) => n.rpc<{ hash: Hex } | null>('eth_getBlockByNumber', ['0x' + h.toString(16), false]).then((b) => b?.hash)

/** Every height the nodes share (`upTo` 'finalized': every height all of them call final) holds the same block on all. */
export async function assertAgreement(nodes: NodeProcess[], upTo: 'latest' | 'finalized' = 'latest'): Promise<void> {
  const heights = await Promise.all(nodes.map(upTo === 'latest' ? heightOf : finalizedOf))
  const low = heights.reduce((a, b) => (a < b ? a : b))
  for (let h = 0n; h <= low; h++) {
    const hashes = await Promise.all(nodes.map((n) => hashAt(n, h)))
    assert.equal(new Set(hashes).size, 1, `nodes disagree at height ${h}: ${hashes.join(' ')}`)
  }
}

export class AgreementWatch {
  private readonly seen = new Map<bigint, { hash: Hex; node: number }>()
  private readonly violations: string[] = []
  private checks = 0
  private timer?: NodeJS.Timeout
  private running?: Promise<void>

  /**
   * `nodes()` is asked at each check: the test may replace, kill and restart nodes. `upTo`:
   * 'latest' (chains whose blocks are final when stored: BFT) or 'finalized' (chains that
   * reorganize: only what each node calls final must agree).
   */
  constructor(
    private readonly nodes: () => Array<NodeProcess | undefined>,
    private readonly intervalMs = 500,
    private readonly upTo: 'latest' | 'finalized' = 'latest',
  ) {}

  start(): this {
    this.timer = setInterval(() => {
      this.running ??= this.check().finally(() => (this.running = undefined))
    }, this.intervalMs)
    // A test that fails before stop() must not be kept alive by the watch.
    this.timer.unref()
    return this
  }

  /** Stops and returns what was checked; a test asserts `violations` is empty. */
  async stop(): Promise<{ checks: number; heights: number; violations: string[] }> {
    if (this.timer) clearInterval(this.timer)
    await this.running
    await this.check()
    return { checks: this.checks, heights: this.seen.size, violations: this.violations }
  }

  private async check(): Promise<void> {
    const nodes = this.nodes()
    await Promise.all(
      nodes.map(async (node, i) => {
        if (!node) return
        let head: bigint
        try {
          head = await (this.upTo === 'latest' ? heightOf : finalizedOf)(node)
        } catch {
          return // killed or restarting: checked again next time
        }
        // The newest heights are where forks would show; older ones were compared before.
        for (let h = head; h >= 0n && h > head - 8n; h--) {
          let hash: Hex | undefined
          try {
            hash = await hashAt(node, h)
          } catch {
            return
          }
          if (!hash) continue
          const first = this.seen.get(h)
          if (!first) this.seen.set(h, { hash, node: i })
          else if (first.hash !== hash) this.violations.push(`height ${h}: node ${first.node} reported ${first.hash}, node ${i} reported ${hash}`)
        }
      }),
    )
    this.checks++
  }
}
