/**
 * `--checkpoint <block hash>`: the light client starts from a block the user vouches for
 * (from a block explorer, a friend's node, the project's release notes) instead of genesis,
 * as CometBFT's light client starts from a trusted header and Bitcoin's assumevalid skips old
 * history. The hash is the trust; the header is fetched from the sources and must hash to it.
 * Its ancestors that the engine's rules read (PoW: the retarget window and the median-time
 * span) are fetched too and bound to it by their parent hashes, so nothing below the
 * checkpoint is believed without the hash chain that leads to it.
 * @module
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { blockHash, type BlockHeader } from '../../chain/block.ts'
import type { ChainSpec } from '../../chain/spec/index.ts'
import type { HeaderSource } from './header-source.ts'
import { MAX_BATCH } from './source.ts'

/** PoW reads the last 11 headers for the median time past. */
const MEDIAN_SPAN = 11

export interface Checkpoint {
  header: BlockHeader
  hash: Uint8Array
  /** Ancestors the engine's rules read, each linked to the checkpoint by hash (lowest first). */
  ancestors: BlockHeader[]
}

/** How many headers below a checkpoint its engine's header rules read. */
export function ancestorWindow(spec: ChainSpec): number {
  if (spec.engine.type !== 'pow') return 0
  return spec.engine.retarget.kind === 'bitcoin' ? spec.engine.retarget.interval + MEDIAN_SPAN : MEDIAN_SPAN
}

/** The checkpoint's header and ancestors from the first source that gives them hashing right; throws naming each source's failure. */
export async function fetchCheckpoint(sources: readonly HeaderSource[], hash: Uint8Array, window: number): Promise<Checkpoint> {
  const failures: string[] = []
  for (const src of sources) {
    try {
      const header = await src.headerByHash(hash)
      if (!header) throw new Error('does not have it')
      if (!equalsBytes(blockHash(header), hash)) throw new Error(`sent a header that hashes to ${bytesToHex(blockHash(header))}`)
      return { header, hash, ancestors: await linkedAncestors(src, header, window) }
    } catch (err) {
      failures.push(`${src.url}: ${(err as Error).message}`)
    }
  }
  throw new Error(`the checkpoint ${bytesToHex(hash)} could not be fetched: ${failures.join('; ') || 'no sources'}`)
}

/** `window` headers below `top`, fetched by number and checked from `top` down by parent hash. */
async function linkedAncestors(src: HeaderSource, top: BlockHeader, window: number): Promise<BlockHeader[]> {
  const lowest = top.height > BigInt(window) ? top.height - BigInt(window) : 0n
  const got: BlockHeader[] = []
  for (let from = lowest; from < top.height; from += BigInt(MAX_BATCH)) {
    const to = from + BigInt(MAX_BATCH) - 1n < top.height - 1n ? from + BigInt(MAX_BATCH) - 1n : top.height - 1n
    got.push(...(await src.headers(from, to)))
  }
  let child = top
  for (let i = got.length - 1; i >= 0; i--) {
    const h = got[i]!
    if (h.height !== child.height - 1n || !equalsBytes(blockHash(h), child.parentHash)) throw new Error(`its header ${h.height} is not the parent of header ${child.height}`)
    child = h
  }
  if (child.height !== lowest) throw new Error(`gave ${got.length} of the ${top.height - lowest} headers below the checkpoint`)
  return got
}
