/**
 * Child processes for benchmark targets: spawn in their own process group, keep the tail
 * of their output for error messages, stop with SIGTERM then SIGKILL. Also free ports
 * and condition polling with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { BenchError } from './errors.ts'

const TAIL_BYTES = 8 * 1024

/** Keeps the last few KB written to a stream (the child's stdout/stderr must be drained). */
class Tail {
  private buf = ''
  push(chunk: Buffer): void {
    this.buf += chunk.toString('utf8')
    if (this.buf.length > 2 * TAIL_BYTES) this.buf = this.buf.slice(-TAIL_BYTES)
  }
  text(lines = 20): string {
    return this.buf.slice(-TAIL_BYTES).trimEnd().split('\n').slice(-lines).join('\n')
  }
}

export interface ChildHandle {
  readonly name: string
  readonly pid: number
  /** Set once the process has exited. */
  readonly exited: { code: number | null; signal: NodeJS.Signals | null } | undefined
  /** Resolves when the process exits. */
  readonly exit: Promise<void>
  /** Last lines the child wrote to stderr (and stdout), for error messages. */
  outputTail(lines?: number): string
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>
}

const running = new Set<ChildHandle>()

export function spawnChild(
  name: string,
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ChildHandle {
  // detached: own process group, so stop() also reaches anything the child spawns.
  const child: ChildProcess = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stderr = new Tail()
  const stdout = new Tail()
  child.stderr?.on('data', (c: Buffer) => stderr.push(c))
  child.stdout?.on('data', (c: Buffer) => stdout.push(c))

  let exited: ChildHandle['exited']
  let spawnError: Error | undefined
  const exit = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal }
      resolve()
    })
    child.on('error', (err) => {
      spawnError = err
      exited ??= { code: null, signal: null }
      resolve()
    })
  })

  const handle: ChildHandle = {
    name,
    pid: child.pid ?? -1,
    get exited() {
      return exited
    },
    exit,
    outputTail(lines = 20) {
      const err = stderr.text(lines)
      const out = stdout.text(lines)
      const parts = [spawnError ? `spawn error: ${spawnError.message}` : '', err ? `stderr:\n${err}` : '', out ? `stdout:\n${out}` : '']
      return parts.filter(Boolean).join('\n') || '(no output)'
    },
    async stop(graceMs = 5_000) {
      running.delete(handle)
      if (exited || child.pid === undefined) return
      signalGroup(child.pid, 'SIGTERM')
      // The grace timer is cancelled once the child is gone, so it never keeps the bench alive.
      const grace = new AbortController()
      const gone = await Promise.race([
        exit.then(() => true),
        delay(graceMs, false, { signal: grace.signal }).catch(() => false),
      ])
      grace.abort()
      if (!gone) {
        signalGroup(child.pid, 'SIGKILL')
        await exit
      }
    },
  }
  running.add(handle)
  // The group may outlive the leader; make sure nothing we started survives us.
  void exit.then(() => {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL')
  })
  return handle
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

/** Kills every child still running (used on Ctrl-C and on unexpected exits). */
export function killAllChildrenSync(): void {
  for (const h of running) signalGroup(h.pid, 'SIGKILL')
  running.clear()
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))))
    })
  })
}

/**
 * Polls `probe` until it returns a value (not undefined) or the deadline passes. Fails
 * early, with the child's output, if the child exits first.
 */
export async function waitForChild<T>(
  child: ChildHandle,
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError = ''
  for (;;) {
    if (child.exited) {
      const how = child.exited.signal ? `signal ${child.exited.signal}` : `code ${child.exited.code}`
      throw new BenchError('START_FAILED', `${child.name} exited (${how}) before ${what}\n${child.outputTail()}`)
    }
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      // A wrong answer is final; connection errors and the like mean "not yet".
      if (err instanceof BenchError && (err.code === 'WRONG_CHAIN' || err.code === 'START_FAILED')) throw err
      lastError = err instanceof Error ? err.message : String(err)
    }
    if (Date.now() >= deadline) {
      const last = lastError ? ` (last error: ${lastError})` : ''
      throw new BenchError(
        'START_FAILED',
        `${child.name}: ${what} did not happen within ${timeoutMs / 1000} s${last}\n${child.outputTail()}`,
      )
    }
    await Promise.race([delay(intervalMs), child.exit])
  }
}
