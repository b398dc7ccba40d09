/** A one-line progress bar for logs and terminals: "[######----] 61% 6100/10000 blocks, 850/s". */
export function progressLine(done: bigint, total: bigint, startedAt: number, unit = 'blocks', width = 20): string {
  const fraction = total > 0n ? Number((done * 1000n) / total) / 1000 : 1
  const filled = Math.min(width, Math.round(fraction * width))
  const seconds = (Date.now() - startedAt) / 1000
  const rate = seconds > 0 ? Math.round(Number(done) / seconds) : 0
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(fraction * 100)}% ${done}/${total} ${unit}, ${rate}/s`
}
