#!/usr/bin/env node
/** The `catena` command line. Each command lives in commands/ and registers itself here. */
import { Command, CommanderError } from 'commander'
import { registerNodeCommand } from './commands/node.ts'
import { registerOptionalCommands } from './commands/index.ts'

const program = new Command()
  .name('catena')
  .description('Catena: a blockchain node in TypeScript (dev, PoW, BFT and PoH chains from one genesis file)')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride()

registerNodeCommand(program)
registerOptionalCommands(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode)
  console.error(`error: ${(err as Error).message}`)
  process.exit(1)
}
