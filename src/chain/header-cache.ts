/**
 * Decoded headers by hash, the most recent few thousand (a PoW retarget window and then some;
 * ~1.5 KB each): PoW's median-time and retarget reads decode each ancestor once instead of 11
 * or more times per block. Headers are immutable by hash and never deleted from the store, so
 * an entry never goes stale; callers must not modify what they get.
 */
import { bytesToHex } from '@ethereumjs/util'
import { decodeHeader, type BlockHeader } from './block.ts'

const KEPT = 4096

export class HeaderCache {
  private readonly byHash = new Map<string, BlockHeader>()

  /** The header of `hash`, decoded from `raw()` (the stored bytes) on a miss. */
  get(hash: Uint8Array, raw: () => Uint8Array | undefined): BlockHeader | undefined {
    const key = bytesToHex(hash)
    const cached = this.byHash.get(key)
    if (cached) return cached
    const bytes = raw()
    if (!bytes) return undefined
    const header = decodeHeader(bytes)
    this.byHash.set(key, header)
    if (this.byHash.size > KEPT) this.byHash.delete(this.byHash.keys().next().value!)
    return header
  }
}
