/** Commands besides `node`; each registers its own subcommands on the program. */
import type { Command } from 'commander'
import { registerAccountCommands } from './account.ts'
import { registerInitCommand } from './init.ts'
import { registerDevnetCommand } from './devnet.ts'
import { registerSendCommand } from './send.ts'
import { registerPermissionsCommands } from './permissions.ts'
import { registerMultisigCommands } from './multisig.ts'
import { registerStatusCommand } from './status.ts'
import { registerWalletCommands } from './wallet.ts'
import { registerTxCommands } from './tx.ts'
import { registerPohCommands } from './poh.ts'
import { registerLabCommand } from './lab.ts'
import { registerLightCommand } from './light.ts'

export function registerOptionalCommands(program: Command): void {
  registerInitCommand(program)
  registerDevnetCommand(program)
  registerAccountCommands(program)
  registerSendCommand(program)
  registerPermissionsCommands(program)
  registerMultisigCommands(program)
  registerStatusCommand(program)
  registerWalletCommands(program)
  registerTxCommands(program)
  registerPohCommands(program)
  registerLabCommand(program)
  registerLightCommand(program)
}
