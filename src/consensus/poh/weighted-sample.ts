/**
 * Stake-weighted sampling from a seeded ChaCha20 stream, bit-compatible with what Solana's
 * leader schedule uses: `rand_chacha::ChaChaRng::from_seed(seed)` (ChaCha20, 64-bit block
 * counter from 0, stream 0) and `rand::distributions::WeightedIndex` over the stakes.
 *
 * - The stream is RFC 8439 ChaCha20 with the seed as key and an all-zero nonce (for the first
 *   2^32 blocks this is the same keystream as rand_chacha's 64-bit counter and 64-bit stream),
 *   produced by node:crypto; `nextU64` reads it as consecutive little-endian u64 words, as
 *   rand_core's BlockRng does when only u64s are drawn.
 * - `WeightedIndex` keeps the running sums w0, w0+w1, ... (all but the total), draws a uniform
 *   integer in [0, total) with rand's `UniformInt` (widening multiply, rejecting the low part
 *   above the zone `MAX - (2^bits - total) % total`), and returns how many running sums are
 *   at or below it.
 * - Solana's stakes are u64 (lamports); Catena's are wei, which overflow 64 bits. The draw
 *   uses u64 words when the total fits in 64 bits (exactly rand's WeightedIndex<u64>, so
 *   Solana's own test vectors apply) and u128 words (two u64 draws, low word first, as rand's
 *   u128 does) when it needs up to 128 bits.
 * @module
 */
import { createCipheriv, type Cipher } from 'node:crypto'

const CHUNK = 256 // 4 ChaCha blocks at a time, as rand_chacha buffers them
const ZEROS = new Uint8Array(CHUNK)
const U64_MAX = (1n << 64n) - 1n
/** Rejections in a row with probability at most 2^-256: seeing it means a broken stream. */
const MAX_REJECTIONS = 256

/** A source of uniformly random words (ChaCha20Rng; tests script one). */
export interface WordSource {
  nextU64(): bigint
  nextU128(): bigint
}

/** rand_chacha's ChaCha20Rng, u64 draws only. Deterministic from the 32-byte seed. */
export class ChaCha20Rng implements WordSource {
  private readonly cipher: Cipher
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0

  constructor(seed: Uint8Array) {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError('a ChaCha20 seed is 32 bytes')
    // node:crypto's chacha20 IV = 32-bit little-endian block counter || 96-bit nonce, all zero here.
    this.cipher = createCipheriv('chacha20', seed, new Uint8Array(16))
  }

  nextU64(): bigint {
    if (this.pos + 8 > this.buf.length) {
      this.buf = this.cipher.update(ZEROS)
      this.pos = 0
    }
    const v = this.buf.readBigUInt64LE(this.pos)
    this.pos += 8
    return v
  }

  /** rand's u128: two u64 draws, the first is the low word. */
  nextU128(): bigint {
    const lo = this.nextU64()
    return (this.nextU64() << 64n) | lo
  }
}

/** rand's UniformInt over [0, range), with `bits`-wide draws. */
export class UniformBelow {
  private readonly zone: bigint
  private readonly max: bigint

  constructor(
    readonly range: bigint,
    readonly bits: 64 | 128,
  ) {
    this.max = (1n << BigInt(bits)) - 1n
    if (range < 1n || range > this.max) throw new RangeError(`uniform range must be in [1, 2^${bits} - 1]`)
    this.zone = this.max - ((this.max - range + 1n) % range)
  }

  sample(rng: WordSource): bigint {
    const shift = BigInt(this.bits)
    for (let i = 0; i < MAX_REJECTIONS; i++) {
      const v = this.bits === 64 ? rng.nextU64() : rng.nextU128()
      const product = v * this.range
      if ((product & this.max) <= this.zone) return product >> shift
    }
    throw new Error('ChaCha20 stream rejected 256 draws in a row: the stream is broken')
  }
}

/** rand's WeightedIndex: index i with probability weights[i] / total. */
export class WeightedIndex {
  /** Running sums w0, w0+w1, ..., without the total. */
  private readonly cumulative: bigint[]
  private readonly uniform: UniformBelow
  readonly total: bigint

  constructor(weights: readonly bigint[]) {
    if (weights.length === 0) throw new RangeError('weighted sampling needs at least one weight')
    const cumulative: bigint[] = []
    let total = 0n
    for (const w of weights) {
      if (typeof w !== 'bigint' || w < 0n) throw new RangeError('weights must be non-negative bigints')
      total += w
      cumulative.push(total)
    }
    cumulative.pop() // rand keeps every running sum but the total
    if (total === 0n) throw new RangeError('all weights are zero')
    this.cumulative = cumulative
    this.total = total
    this.uniform = new UniformBelow(total, total <= U64_MAX ? 64 : 128)
  }

  sample(rng: WordSource): number {
    const chosen = this.uniform.sample(rng)
    // partition_point(|w| w <= chosen): the first running sum above the draw.
    let lo = 0
    let hi = this.cumulative.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.cumulative[mid] <= chosen) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
