/** Quick skip for eth_getLogs: a block whose logs bloom cannot match the filter has no hits. */
import { Bloom } from '@ethereumjs/vm'

export function matchesBloom(bitvector: Uint8Array, addresses: Uint8Array[], topics: (Uint8Array[] | null)[]): boolean {
  const bloom = new Bloom(bitvector)
  if (addresses.length > 0 && !addresses.some((a) => bloom.check(a))) return false
  for (const position of topics) {
    if (position === null || position.length === 0) continue
    if (!position.some((t) => bloom.check(t))) return false
  }
  return true
}
