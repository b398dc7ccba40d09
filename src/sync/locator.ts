/**
 * Block locators (Bitcoin's CBlockLocator): how two nodes find where their chains part in one
 * request. The asker lists its canonical hashes from the head back, the last ten one by one,
 * then doubling the step, ending at genesis; the server answers from the first of them on its
 * own canonical chain. A fork at any depth is found with at most MAX_LOCATOR hashes.
 * @module
 */
import type { Chain } from '../chain/chain.ts'
import { MAX_LOCATOR } from './wire.ts'

const DENSE = 10

/** Our locator: canonical hashes from the head back to genesis (always last). */
export function blockLocator(chain: Chain): Uint8Array[] {
  const out: Uint8Array[] = []
  let height = chain.head.header.height
  let step = 1n
  while (height > 0n && out.length < MAX_LOCATOR - 1) {
    out.push(chain.getHashAt(height)!)
    if (out.length >= DENSE) step *= 2n
    height -= step
  }
  out.push(chain.genesisHash)
  return out
}

/** The height of the first locator hash on our canonical chain, or undefined when none is. */
export function locate(chain: Chain, locator: Uint8Array[]): bigint | undefined {
  for (const hash of locator) {
    if (chain.isCanonical(hash)) return chain.getHeightOf(hash)
  }
  return undefined
}
