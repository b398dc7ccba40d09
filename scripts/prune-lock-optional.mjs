#!/usr/bin/env node
/**
 * Drops optional dependencies that the lockfile lists but holds no entry for.
 *
 * The npm registry these machines reach mirrors only some of the per-platform binaries that
 * rollup (Vite's bundler) lists as optional dependencies, so `npm install` writes a lockfile
 * naming packages it could not record, and `npm ci` then refuses it as out of sync. The
 * binaries for this platform are recorded, so nothing this machine needs is lost.
 * Run after `npm install` changes package-lock.json.
 */
import { readFileSync, writeFileSync } from 'node:fs'

const path = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(path, 'utf8'))
const paths = Object.keys(lock.packages)
let pruned = 0
for (const [name, entry] of Object.entries(lock.packages)) {
  const optional = entry.optionalDependencies
  if (!optional) continue
  for (const dep of Object.keys(optional)) {
    if (!paths.some((p) => p.endsWith(`node_modules/${dep}`))) {
      delete optional[dep]
      pruned++
    }
  }
  if (Object.keys(optional).length === 0) delete entry.optionalDependencies
  void name
}
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n')
console.log(`prune-lock-optional: dropped ${pruned} optional dependencies with no lockfile entry`)
