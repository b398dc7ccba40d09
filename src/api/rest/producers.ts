/**
 * Who produces the blocks, and how concentrated that is. PoW: each miner's share of the
 * blocks in the window estimates its share of the hashrate (and its work over the window's
 * time gives an absolute hashrate). BFT/PoS: voting power of the validator set in force,
 * with the blocks each proposed. Dev: the one producer. The Nakamoto coefficient counts the
 * fewest producers that together hold more than half (of power for validators, of blocks
 * otherwise).
 * @module
 */
import { countBy, nakamotoCoefficient, round, shareOf, sum } from './analytics.ts'
import type { ProducerKind } from './consensus-view.ts'

export interface ProducerItemJSON {
  address: string
  blocks: number
  share: number
  /** Validators: voting power (decimal string). */
  power?: string
  powerShare?: number
  /** Miners: estimated hashes per second (decimal string). */
  hashrate?: string
}

export interface ProducersJSON {
  kind: ProducerKind
  /** Blocks the statistics cover (fewer than asked near genesis). */
  window: number
  items: ProducerItemJSON[]
  nakamotoCoefficient: number
}

export interface ProducersInput {
  kind: ProducerKind
  /** Producers (checksummed) of the blocks in the window, with PoW work when known. */
  blocks: ReadonlyArray<{ producer: string; work?: bigint }>
  /** Seconds the window spans (for hashrate); 0 when unknown. */
  spanSeconds: number
  /** Validators in force, checksummed, with power. */
  validators?: ReadonlyArray<{ address: string; power: bigint }>
}

/** Producer statistics plus the exact weights concentration alerts compare. */
export interface ProducerStats {
  json: ProducersJSON
  /** Per producer: its weight (power for validators, blocks otherwise), heaviest first. */
  weights: Array<{ address: string; weight: bigint }>
  total: bigint
}

export function computeProducers(input: ProducersInput): ProducerStats {
  const counts = countBy(input.blocks, (b) => b.producer)
  const n = input.blocks.length
  const work = new Map<string, bigint>()
  for (const b of input.blocks) if (b.work !== undefined) work.set(b.producer, (work.get(b.producer) ?? 0n) + b.work)
  const byPower = input.kind === 'validators' && input.validators !== undefined
  const power = new Map((input.validators ?? []).map((v) => [v.address, v.power]))
  const totalPower = sum([...power.values()])
  const addresses = [...new Set([...(byPower ? power.keys() : []), ...counts.keys()])]

  const items: ProducerItemJSON[] = addresses.map((address) => {
    const blocks = counts.get(address) ?? 0
    const item: ProducerItemJSON = { address, blocks, share: n > 0 ? round(blocks / n, 6) : 0 }
    if (byPower) {
      const p = power.get(address) ?? 0n
      item.power = p.toString()
      item.powerShare = round(shareOf(p, totalPower), 6)
    }
    const w = work.get(address)
    if (input.kind === 'miners' && w !== undefined && input.spanSeconds > 0) item.hashrate = (w / BigInt(Math.ceil(input.spanSeconds))).toString()
    return item
  })
  const weightOf = (i: ProducerItemJSON) => (byPower ? BigInt(i.power!) : BigInt(i.blocks))
  items.sort((a, b) => {
    const d = weightOf(b) - weightOf(a)
    return d !== 0n ? (d > 0n ? 1 : -1) : b.blocks - a.blocks || (a.address < b.address ? -1 : 1)
  })
  const weights = items.map((i) => ({ address: i.address, weight: weightOf(i) }))
  const total = byPower ? totalPower : BigInt(n)
  return {
    json: { kind: input.kind, window: n, items, nakamotoCoefficient: nakamotoCoefficient(weights.map((w) => w.weight)) },
    weights,
    total,
  }
}
