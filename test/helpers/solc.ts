/**
 * Compiles the Solidity fixtures in test/fixtures/contracts with the `solc` package
 * (standard JSON, Prague EVM like Catena's, optimizer on). About half a second per
 * compile, so the result is cached: each test process compiles at most once.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import solc from 'solc'
import type { Abi, Hex } from 'viem'
import { REPO_ROOT } from './node-process.ts'

export const CONTRACTS_DIR = join(REPO_ROOT, 'test/fixtures/contracts')
export const EVM_VERSION = 'prague'

export interface CompiledContract {
  abi: Abi
  /** Creation code, 0x-hex. */
  bytecode: Hex
  /** Runtime code as eth_getCode returns it after deployment, 0x-hex. */
  deployedBytecode: Hex
}

interface SolcMessage {
  severity: 'error' | 'warning' | 'info'
  formattedMessage?: string
  message: string
}

interface SolcOutput {
  errors?: SolcMessage[]
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>
}

/** solc reported errors; `messages` are its formatted messages. */
export class SolcCompileError extends Error {
  override readonly name = 'SolcCompileError'
  readonly code = 'SOLC_COMPILE_FAILED'
  constructor(readonly messages: string[]) {
    super(`solc failed:\n${messages.join('\n')}`)
  }
}

/** Compiles `sources` (file name -> Solidity text); contract name -> artifacts. */
export function compileSources(sources: Record<string, string>): Record<string, CompiledContract> {
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new SolcCompileError(errors.map((e) => (e.formattedMessage ?? e.message).trim()))
  const out: Record<string, CompiledContract> = {}
  for (const [file, contracts] of Object.entries(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(contracts)) {
      if (Object.hasOwn(out, name)) throw new SolcCompileError([`contract name ${name} appears in two files (${file})`])
      out[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, deployedBytecode: `0x${c.evm.deployedBytecode.object}` }
    }
  }
  return out
}

let cached: Record<string, CompiledContract> | undefined

/** Every contract in test/fixtures/contracts, compiled once per process. */
export function compileFixtures(): Record<string, CompiledContract> {
  if (cached === undefined) {
    const files = readdirSync(CONTRACTS_DIR).filter((f) => f.endsWith('.sol')).sort()
    cached = compileSources(Object.fromEntries(files.map((f) => [f, readFileSync(join(CONTRACTS_DIR, f), 'utf8')])))
  }
  return cached
}

/** One fixture contract by name; throws if no fixture defines it. */
export function fixtureContract(name: string): CompiledContract {
  const all = compileFixtures()
  const c = Object.hasOwn(all, name) ? all[name] : undefined
  if (c === undefined) throw new Error(`no fixture contract named ${name} (have: ${Object.keys(all).join(', ')})`)
  return c
}
