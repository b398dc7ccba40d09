/**
 * Compiled contract artifacts (artifacts/contracts/<Name>.json, written by
 * scripts/build-contracts.mjs). Located relative to this module so the same path works from
 * src/contracts under tsx and from dist/contracts after `tsc`.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Abi, Hex } from 'viem'

export interface ContractArtifact {
  contractName: string
  abi: Abi
  /** Creation code, 0x-hex. */
  bytecode: Hex
  /** Runtime code, 0x-hex. */
  deployedBytecode: Hex
}

export type ContractArtifactErrorCode = 'ARTIFACT_MISSING' | 'ARTIFACT_INVALID'

export class ContractArtifactError extends Error {
  override readonly name = 'ContractArtifactError'
  constructor(
    readonly code: ContractArtifactErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const cache = new Map<string, ContractArtifact>()

/** The artifact of contract `name`; read once per process. */
export function loadArtifact(name: string): ContractArtifact {
  const hit = cache.get(name)
  if (hit !== undefined) return hit
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ContractArtifactError('ARTIFACT_MISSING', `invalid contract name ${JSON.stringify(name)}`)
  }
  const url = new URL(`../../artifacts/contracts/${name}.json`, import.meta.url)
  const path = fileURLToPath(url)
  let text: string
  try {
    text = readFileSync(url, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ContractArtifactError(
        'ARTIFACT_MISSING',
        `contract artifact ${path} not found: run \`npm run build:contracts\` to compile contracts/*.sol`,
      )
    }
    throw err
  }
  const artifact = parseArtifact(text, path)
  cache.set(name, artifact)
  return artifact
}

function parseArtifact(text: string, path: string): ContractArtifact {
  const invalid = (why: string) =>
    new ContractArtifactError('ARTIFACT_INVALID', `contract artifact ${path} is invalid (${why}): run \`npm run build:contracts\``)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw invalid('not JSON')
  }
  const a = json as Partial<Record<keyof ContractArtifact, unknown>>
  if (typeof a !== 'object' || a === null) throw invalid('not an object')
  if (typeof a.contractName !== 'string') throw invalid('no contractName')
  if (!Array.isArray(a.abi)) throw invalid('no abi')
  for (const key of ['bytecode', 'deployedBytecode'] as const) {
    const code = a[key]
    if (typeof code !== 'string' || !/^0x([0-9a-f]{2})+$/i.test(code)) throw invalid(`${key} is not non-empty hex`)
  }
  return {
    contractName: a.contractName,
    abi: a.abi as Abi,
    bytecode: a.bytecode as Hex,
    deployedBytecode: a.deployedBytecode as Hex,
  }
}
