/** proc-usage against real processes: this one, and a node started under a shell wrapper. */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { clockTicksPerSecond, cpuMsBetween, processTree, readProcessUsage, rssMiB, sampleTree } from './proc-usage.ts'

const linux = process.platform === 'linux'

/** Spins until this process has used `ms` more CPU, whatever else the machine is doing. */
function burnCpu(ms: number): number {
  const before = process.cpuUsage()
  let used = 0
  while (used < ms) {
    const d = process.cpuUsage(before)
    used = (d.user + d.system) / 1000
  }
  return used
}

describe('proc-usage', { skip: !linux && 'needs /proc' }, () => {
  test('clock ticks per second is a positive integer', () => {
    const hz = clockTicksPerSecond()
    assert.ok(Number.isInteger(hz) && hz > 0, String(hz))
  })

  test('CPU of this process grows by about a 200 ms busy loop', () => {
    const before = readProcessUsage(process.pid)!
    const burnt = burnCpu(200)
    const after = readProcessUsage(process.pid)!
    const measured = after.cpuMs - before.cpuMs
    // Two readings of 10 ms ticks, plus whatever the runtime's other threads did meanwhile.
    assert.ok(measured >= burnt - 25 && measured <= burnt + 60, `measured ${measured} ms for a ${burnt.toFixed(0)} ms loop`)
    assert.equal(after.startTicks, before.startTicks)
    assert.ok(after.rssKiB > 1024, `rss ${after.rssKiB} KiB`)
  })

  test('a sample of this process alone matches its own reading', () => {
    const s = sampleTree(process.pid)!
    assert.equal(s.rootPid, process.pid)
    assert.ok(s.processes.size >= 1)
    assert.ok(rssMiB(s) > 1)
    assert.equal(cpuMsBetween(s, s), 0)
  })

  test('a pid that does not exist has no sample', () => {
    assert.equal(sampleTree(2 ** 22 + 12345), undefined)
    assert.equal(readProcessUsage(2 ** 22 + 12345), undefined)
  })

  test('a node under a shell wrapper: found in the tree, and its CPU still counts after it exits', async () => {
    // The shell stays (it still has `read` to run), so node is its child and our grandchild.
    const script =
      "process.stdout.write('ready\\n'); const b = process.cpuUsage(); " +
      'while ((process.cpuUsage(b).user + process.cpuUsage(b).system) < 300000) {}'
    const sh = spawn('sh', ['-c', `"${process.execPath}" -e "${script}"; echo done; read x`], { stdio: ['pipe', 'pipe', 'inherit'] })
    try {
      let out = ''
      sh.stdout.on('data', (c: Buffer) => (out += c.toString()))
      while (!out.includes('ready')) await delay(5)
      const start = sampleTree(sh.pid!)!
      const tree = processTree(sh.pid!)
      assert.equal(tree[0], sh.pid)
      assert.equal(tree.length, 2, `tree ${tree.join(',')}`)
      assert.equal(start.processes.size, 2)

      while (!out.includes('done')) await delay(5)
      const end = sampleTree(sh.pid!)!
      assert.equal(end.processes.size, 1, 'node has exited')
      const used = cpuMsBetween(start, end)
      assert.ok(used >= 270 && used <= 700, `tree used ${used} ms for a 300 ms loop`)
    } finally {
      sh.stdin.end()
      if (sh.exitCode === null) await once(sh, 'exit')
    }
  })
})
