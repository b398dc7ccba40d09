/** Commands besides `node`; each registers its own subcommands on the program. */
import type { Command } from 'commander'

export function registerOptionalCommands(_program: Command): void {}
