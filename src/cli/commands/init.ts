/**
 * `catena init`: writes a chain spec (genesis file) to start a custom chain from: a preset
 * as editable JSON. `catena node --chain <file>` then validates and runs it.
 */
import { existsSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { chainSpecToJSON, listPresets, loadChainSpec } from '../../chain/spec/index.ts'

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a chain spec (genesis JSON) based on a preset, to edit and run with `catena node --chain <file>`')
    .option('--chain <preset>', `preset to start from (${listPresets().join(', ')})`, 'dev')
    .option('--out <file>', 'where to write the genesis file', 'genesis.json')
    .option('--force', 'overwrite an existing file')
    .action(async (opts: { chain: string; out: string; force?: boolean }) => {
      if (!listPresets().includes(opts.chain)) {
        throw new Error(`unknown preset "${opts.chain}" (known: ${listPresets().join(', ')})`)
      }
      if (existsSync(opts.out) && !opts.force) throw new Error(`${opts.out} exists; pass --force to overwrite it`)
      const json = JSON.stringify(chainSpecToJSON(loadChainSpec(opts.chain)), null, 2) + '\n'
      // Written beside the target and renamed, so an interrupted run never leaves half a file.
      await writeFile(`${opts.out}.tmp`, json)
      await rename(`${opts.out}.tmp`, opts.out)
      // Loading it back proves the file is a valid spec before the user edits it.
      loadChainSpec(opts.out)
      console.log(`wrote ${opts.out} (from preset ${opts.chain}); run it with: catena node --chain ${opts.out}`)
    })
}
