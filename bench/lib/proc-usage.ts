/**
 * CPU time and resident memory of a process and all its descendants, read from /proc
 * (Linux only), so a node started through a wrapper (npx, sh) is measured whole.
 *
 * CPU comes from /proc/<pid>/stat: utime + stime, plus cutime + cstime (descendants that
 * exited and were reaped, so a child that ends between two samples still counts).
 * These cover every thread of the process, including threads that already ended.
 * /proc/<pid>/schedstat would give nanoseconds, but only for the main thread (a busy
 * worker thread does not show there), so the clock-tick fields are the honest total;
 * each reading is off by less than two ticks (20 ms at 100 ticks/s) per process.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export interface ProcessUsage {
  pid: number
  /** Start time in clock ticks since boot: with the pid, tells a reused pid apart. */
  startTicks: number
  cpuMs: number
  rssKiB: number
}

export interface TreeSample {
  rootPid: number
  /** The root first, then its descendants; keyed "pid:startTicks". */
  processes: Map<string, ProcessUsage>
}

let clockTicks: number | undefined

/** Clock ticks per second of the /proc/<pid>/stat time fields (`getconf CLK_TCK`, 100 on Linux). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    let n = NaN
    try {
      n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    } catch {
      // no getconf: the kernel's USER_HZ is 100 on every Linux architecture Node runs on
    }
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100
  }
  return clockTicks
}

/** The fields after "(comm)" in /proc/<pid>/stat; comm may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ')
  } catch {
    return undefined // gone, or no /proc
  }
}

// Indexes into statFields (field number in proc(5) minus 3): ppid 4, utime 14, stime 15,
// cutime 16, cstime 17, starttime 22.
const PPID = 1
const UTIME = 11
const STARTTIME = 19

/** CPU (own and reaped descendants') and resident memory of one process; undefined when it is gone. */
export function readProcessUsage(pid: number): ProcessUsage | undefined {
  const f = statFields(pid)
  if (!f || f.length <= STARTTIME) return undefined
  const ticks = Number(f[UTIME]) + Number(f[UTIME + 1]) + Number(f[UTIME + 2]) + Number(f[UTIME + 3])
  let rssKiB = 0
  try {
    rssKiB = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  } catch {
    return undefined
  }
  return { pid, startTicks: Number(f[STARTTIME]), cpuMs: (ticks * 1000) / clockTicksPerSecond(), rssKiB }
}

/** `rootPid` and every process below it, found through the ppid fields of /proc/*\/stat. */
export function processTree(rootPid: number): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  const children = new Map<number, number[]>()
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue
    const ppid = Number(statFields(Number(name))?.[PPID])
    if (!Number.isInteger(ppid)) continue
    const list = children.get(ppid)
    if (list) list.push(Number(name))
    else children.set(ppid, [Number(name)])
  }
  const tree = [rootPid]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []))
  return tree
}

/** Usage of the whole tree now; undefined when the root cannot be read (gone, or not Linux). */
export function sampleTree(rootPid: number): TreeSample | undefined {
  const processes = new Map<string, ProcessUsage>()
  for (const pid of processTree(rootPid)) {
    const u = readProcessUsage(pid)
    if (u) processes.set(`${u.pid}:${u.startTicks}`, u)
    else if (pid === rootPid) return undefined
  }
  return { rootPid, processes }
}

/**
 * CPU the tree used between two samples. A process new in `end` counts from zero; one
 * gone by `end` was reaped by its parent (whose cutime now holds it), so it is subtracted.
 */
export function cpuMsBetween(start: TreeSample, end: TreeSample): number {
  let ms = 0
  for (const [key, u] of end.processes) ms += u.cpuMs - (start.processes.get(key)?.cpuMs ?? 0)
  for (const [key, u] of start.processes) if (!end.processes.has(key)) ms -= u.cpuMs
  return ms
}

/** Resident memory of the tree (shared pages count once per process that maps them). */
export function rssMiB(sample: TreeSample): number {
  let kib = 0
  for (const u of sample.processes.values()) kib += u.rssKiB
  return kib / 1024
}
