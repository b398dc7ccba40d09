import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { loadChainSpec } from '../../src/chain/spec/index.ts'
import { REPO_ROOT } from '../helpers/node-process.ts'

const run = promisify(execFile)
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO_ROOT }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )

test('catena init writes a valid, editable genesis file and refuses to clobber one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'catena-init-'))
  try {
    const out = join(dir, 'genesis.json')
    const ok = await cli('init', '--chain', 'dev', '--out', out)
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /catena node --chain/)
    const spec = loadChainSpec(out)
    assert.equal(spec.chainId, 1337n)
    assert.equal(spec.genesis.alloc.size, 20)

    await writeFile(out, (await readFile(out, 'utf8')).replace('"chainId": 1337', '"chainId": 777'))
    assert.equal(loadChainSpec(out).chainId, 777n)
    const again = await cli('init', '--out', out)
    assert.equal(again.code, 1)
    assert.match(again.stderr, /exists; pass --force/)
    assert.equal(loadChainSpec(out).chainId, 777n, 'the existing file is untouched')

    const bad = await cli('init', '--chain', 'nope', '--out', join(dir, 'x.json'))
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /unknown preset "nope"/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
