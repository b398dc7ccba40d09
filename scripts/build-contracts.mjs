#!/usr/bin/env node
/**
 * Compiles every contracts/*.sol with the `solc` package (standard JSON, Prague EVM, optimizer
 * on, 200 runs) and writes artifacts/contracts/<Name>.json per contract:
 * { contractName, abi, bytecode, deployedBytecode, sourceHash, compiler } (sourceHash = sha256 of the
 * .sol text).
 *
 * A source whose artifact (artifacts/contracts/<file name>.json) already carries the same
 * sourceHash and compiler version is not recompiled, so re-runs are fast. Exits 1 with solc's
 * formatted messages when compilation fails.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CONTRACTS_DIR = join(ROOT, 'contracts')
const OUT_DIR = join(ROOT, 'artifacts', 'contracts')
const SETTINGS = {
  evmVersion: 'prague',
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
}

// The installed solc package's version identifies the compiler; reading it does not load
// solc itself (~0.4 s), so an up-to-date run stays fast.
const SOLC_VERSION = createRequire(import.meta.url)('solc/package.json').version

const sha256 = (text) => createHash('sha256').update(text).digest('hex')

/** True when the artifact named after the file was built from this very source and compiler. */
function upToDate(file, hash, compiler) {
  const path = join(OUT_DIR, `${basename(file, '.sol')}.json`)
  if (!existsSync(path)) return false
  try {
    const artifact = JSON.parse(readFileSync(path, 'utf8'))
    return artifact.sourceHash === hash && artifact.compiler === compiler
  } catch {
    return false // unreadable artifact: rebuild it
  }
}

/** Writes via a temporary file and a rename, so an interrupted build never leaves half a file. */
function writeArtifact(artifact) {
  const path = join(OUT_DIR, `${artifact.contractName}.json`)
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(artifact, null, 2) + '\n')
  renameSync(tmp, path)
  return path
}

async function main() {
  if (!existsSync(CONTRACTS_DIR)) {
    console.log('build-contracts: no contracts/ directory, nothing to do')
    return 0
  }
  const compiler = `solc ${SOLC_VERSION}`
  const files = readdirSync(CONTRACTS_DIR).filter((f) => f.endsWith('.sol')).sort()
  const sources = {}
  const hashes = {}
  for (const file of files) {
    const content = readFileSync(join(CONTRACTS_DIR, file), 'utf8')
    hashes[file] = sha256(content)
    if (upToDate(file, hashes[file], compiler)) console.log(`${basename(file, '.sol')}: up to date`)
    else sources[file] = { content }
  }
  if (Object.keys(sources).length === 0) return 0

  const { default: solc } = await import('solc')
  const input = { language: 'Solidity', sources, settings: SETTINGS }
  const output = JSON.parse(solc.compile(JSON.stringify(input)))
  const messages = output.errors ?? []
  for (const m of messages.filter((m) => m.severity !== 'error')) console.error((m.formattedMessage ?? m.message).trim())
  const errors = messages.filter((m) => m.severity === 'error')
  if (errors.length > 0) {
    for (const m of errors) console.error((m.formattedMessage ?? m.message).trim())
    console.error(`build-contracts: compilation failed (${errors.length} error${errors.length === 1 ? '' : 's'})`)
    return 1
  }

  mkdirSync(OUT_DIR, { recursive: true })
  const written = new Map()
  for (const file of Object.keys(sources)) {
    for (const [name, c] of Object.entries(output.contracts?.[file] ?? {})) {
      if (written.has(name)) {
        console.error(`build-contracts: contract ${name} is defined in both ${written.get(name)} and ${file}`)
        return 1
      }
      written.set(name, file)
      const path = writeArtifact({
        contractName: name,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        sourceHash: hashes[file],
        compiler,
      })
      const size = c.evm.deployedBytecode.object.length / 2
      console.log(`${name}: wrote ${join('artifacts', 'contracts', basename(path))} (${size} bytes runtime)`)
    }
  }
  return 0
}

process.exitCode = await main()
