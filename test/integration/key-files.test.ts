/**
 * Secrets on disk, through the real `catena node` command: a validator key file or an API key
 * file that other users can read is refused (as ssh refuses such a key) with the chmod that
 * fixes it, before anything starts or is created; after `chmod 600` the same command runs.
 * The datadir is created 0700, and an existing datadir others can enter is warned about.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { KEYS } from '../helpers/chain.ts'
import { NodeStartError, makeDatadir, startNode, trackNodes, type StartNodeOptions } from '../helpers/node-process.ts'

const { dirs, running, cleanup } = trackNodes()
after(cleanup)

const API_KEY = 'integration-admin-key-0123456789'
const exists = (path: string) => stat(path).then(() => true, () => false)

/** Starts `catena node` and expects it to exit 1 with one error line (no stack) matching `pattern`. */
async function assertRefused(opts: StartNodeOptions, pattern: RegExp): Promise<void> {
  let output: string
  try {
    running.add(await startNode(opts))
    assert.fail('the node started')
  } catch (err) {
    if (!(err instanceof NodeStartError)) throw err
    assert.equal(err.exit?.code, 1, err.message)
    output = err.output
  }
  const errors = output.split('\n').filter((l) => l.startsWith('error'))
  assert.equal(errors.length, 1, `one error line expected:\n${output}`)
  assert.match(errors[0]!, pattern)
  assert.ok(!/\n\s+at /.test(output), `no stack trace expected:\n${output}`)
}

async function scratch(): Promise<string> {
  const dir = await makeDatadir('catena-keys-')
  dirs.push(dir)
  return dir
}

describe('key files and datadir permissions', () => {
  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    test(`a validator key file with mode 0${mode.toString(8)} is refused; chmod 600 fixes it`, async () => {
      const dir = await scratch()
      const keyFile = join(dir, 'validator.key')
      await writeFile(keyFile, bytesToHex(KEYS[0]))
      await chmod(keyFile, mode)
      const datadir = join(dir, 'data')
      const start = { datadir, chain: 'consortium', args: ['--p2p-port', '0', '--validator-key-file', keyFile] }
      await assertRefused(start, new RegExp(`^error: permissions 0${mode.toString(8)} for the validator key file ${keyFile} are too open: .*run: chmod 600 ${keyFile}$`))
      assert.equal(await exists(datadir), false, 'nothing was created')
      if (mode !== 0o644) return

      await chmod(keyFile, 0o600)
      const node = await startNode(start)
      running.add(node)
      assert.ok(node.info.peerId)
      await node.stop()
      running.delete(node)
    })
  }

  test('an API key file others can read is refused; chmod 600 fixes it', async () => {
    const dir = await scratch()
    const keyFile = join(dir, 'api-keys.txt')
    await writeFile(keyFile, `${API_KEY}\n`, { mode: 0o644 })
    await chmod(keyFile, 0o644)
    const datadir = join(dir, 'data')
    await assertRefused({ datadir, args: ['--api-key-file', keyFile] }, new RegExp(`^error: permissions 0644 for the API key file ${keyFile} are too open: .*run: chmod 600 ${keyFile}$`))
    assert.equal(await exists(datadir), false, 'nothing was created')

    await chmod(keyFile, 0o600)
    const node = await startNode({ datadir, args: ['--api-key-file', keyFile] })
    running.add(node)
    const unban = (headers: Record<string, string>) => fetch(`${node.rpcUrl}/v1/admin/peers/12D3KooWByr3LEFCyseoQjxa3W3ib1uYfjYryKM4PRGVqhuDM8xu/ban`, { method: 'DELETE', headers }).then((res) => res.status)
    assert.equal(await unban({}), 401)
    assert.ok(![401, 403].includes(await unban({ authorization: `Bearer ${API_KEY}` })), 'the key from the file opens the admin routes')
    await node.stop()
    running.delete(node)
  })

  test('a missing key file says so', async () => {
    const dir = await scratch()
    await assertRefused({ datadir: join(dir, 'data'), chain: 'consortium', args: ['--p2p-port', '0', '--validator-key-file', join(dir, 'nope.key')] }, /^error: cannot read the validator key file .*nope\.key: ENOENT/)
  })

  test('a new datadir is created 0700; an existing one open to others is warned about', async () => {
    const dir = await scratch()
    const datadir = join(dir, 'a', 'b')
    const node = await startNode({ datadir })
    running.add(node)
    assert.equal((await stat(datadir)).mode & 0o777, 0o700)
    assert.equal((await stat(join(dir, 'a'))).mode & 0o777, 0o700, 'parents it creates too')
    assert.ok(!node.logLines().some((l) => /accessible by other users/.test(String(l.msg))))
    await node.stop()
    running.delete(node)

    await chmod(datadir, 0o755)
    const again = await startNode({ datadir })
    running.add(again)
    const warning = again.logLines().find((l) => /accessible by other users/.test(String(l.msg)))
    assert.ok(warning, 'a warning about the open datadir')
    assert.equal(warning.level, 40)
    assert.equal(warning.msg, `the datadir ${datadir} is accessible by other users (mode 0755): run chmod 700 ${datadir}`)
    await again.stop()
    running.delete(again)
  })
})
