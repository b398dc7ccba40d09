/** Commands besides `node`; each registers its own subcommands on the program. */
import type { Command } from 'commander'
import { registerAccountCommands } from './account.ts'
import { registerInitCommand } from './init.ts'
import { registerDevnetCommand } from './devnet.ts'
import { registerSendCommand } from './send.ts'
import { registerPermissionsCommands } from './permissions.ts'
import { registerStatusCommand } from './status.ts'

export function registerOptionalCommands(program: Command): void {
  registerInitCommand(program)
  registerDevnetCommand(program)
  registerAccountCommands(program)
  registerSendCommand(program)
  registerPermissionsCommands(program)
  registerStatusCommand(program)
}
