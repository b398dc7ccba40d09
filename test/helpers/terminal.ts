/**
 * A real pseudo-terminal for CLI prompts (hidden passwords, typed confirmations): the catena
 * CLI runs in a detached tmux pane, the test reads the screen and types into it. tmux is the
 * only dependency; tests skip with TMUX_MISSING as the reason where it is not installed.
 */
import { spawnSync } from 'node:child_process'
import { cliEnv } from './cli.ts'
import { REPO_ROOT, waitFor } from './node-process.ts'

const probe = spawnSync('tmux', ['-V'], { encoding: 'utf8' })
/** Why terminal tests cannot run here, or false when tmux is available. */
export const TMUX_MISSING: string | false =
  probe.error !== undefined || probe.status !== 0 ? 'tmux is not installed: this test needs a pseudo-terminal (apt-get install tmux)' : false

let sessions = 0

export class TerminalSession {
  private readonly socket = `catena-test-${process.pid}-${++sessions}`
  private readonly pane = 'cli'

  /** Starts `catena <args>` (from src/ via tsx) on a 200x50 terminal; the screen shows EXIT=<code> when it ends. */
  constructor(args: string[]) {
    const cmd =
      `cd ${JSON.stringify(REPO_ROOT)} && ${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts ` +
      `${args.map((a) => JSON.stringify(a)).join(' ')}; echo "EXIT=$?"; exec sleep 120`
    this.tmux('new-session', '-d', '-s', this.pane, '-x', '200', '-y', '50', cmd)
  }

  /** What the terminal shows now. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.pane)
  }

  /** Waits until the screen contains `what`; returns that screen. */
  showing(what: string | RegExp, timeoutMs = 20_000): Promise<string> {
    return waitFor(`the screen to show ${what}`, () => {
      const s = this.screen()
      return (typeof what === 'string' ? s.includes(what) : what.test(s)) ? s : undefined
    }, { timeoutMs })
  }

  /** Types `text` (literally) and presses Enter. */
  type(text: string): void {
    if (text) this.tmux('send-keys', '-t', this.pane, '-l', text)
    this.tmux('send-keys', '-t', this.pane, 'Enter')
  }

  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'])
  }

  private tmux(...args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: cliEnv() })
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`)
    return r.stdout
  }
}
