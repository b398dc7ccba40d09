/**
 * The `catena account | send | status` commands as a user runs them: each CLI call is a child
 * process, against a real node started as another child process. Keys use a light scrypt cost
 * (CATENA_KEYSTORE_SCRYPT_N) so the suite stays fast; the hidden prompt is driven through a
 * real pseudo-terminal with tmux when it is installed.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@ethereumjs/util'
import { isValidChecksumAddress, privateKeyToAddress, toChecksumAddress } from '../../src/crypto/index.ts'
import { TEST_MNEMONIC, decryptKeystore, deriveKeys, encryptKeystore } from '../../src/wallet/index.ts'
import { makeDatadir, removeDatadir, startNode, type NodeProcess } from '../helpers/node-process.ts'
import { assertFails, catena } from '../helpers/cli.ts'
import { TMUX_MISSING, TerminalSession } from '../helpers/terminal.ts'

const DEV0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'

async function listing(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort()
  } catch {
    return []
  }
}

async function freePortUrl(): Promise<string> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return `http://127.0.0.1:${port}`
}

describe('catena account, send and status', () => {
  let node: NodeProcess
  let tmp: string
  let pwFile: string
  const password = 'correct horse battery staple'

  before(async () => {
    tmp = await makeDatadir('catena-cli-')
    pwFile = join(tmp, 'password.txt')
    await writeFile(pwFile, `${password}\n`)
    node = await startNode({ datadir: join(tmp, 'node') })
  })

  after(async () => {
    await node?.stop()
    await removeDatadir(tmp)
  })

  test('account new with --password-file: a 0600 keystore that decrypts, shown by account list', async () => {
    const datadir = join(tmp, 'new')
    const r = await catena(['account', 'new', '--datadir', datadir, '--password-file', pwFile])
    assert.equal(r.code, 0, r.stderr)
    const address = /created account (0x[0-9a-fA-F]{40})/.exec(r.stdout)?.[1] ?? ''
    const path = /keystore: (.+)$/m.exec(r.stdout)?.[1] ?? ''
    assert.ok(isValidChecksumAddress(address), r.stdout)
    assert.ok(path.startsWith(join(datadir, 'keystore')), r.stdout)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.match(r.stderr, /CATENA_KEYSTORE_SCRYPT_N=1024/, 'a light KDF is warned about')

    const json = await readFile(path, 'utf8')
    const ks = JSON.parse(json)
    assert.equal(ks.crypto.kdfparams.n, 1024)
    const key = await decryptKeystore(json, password)
    assert.equal(toChecksumAddress(privateKeyToAddress(key)), address)
    const keyHex = bytesToHex(key).slice(2)
    assert.ok(!r.stdout.includes(keyHex) && !r.stderr.includes(keyHex) && !json.includes(keyHex), 'the key is never shown in plaintext')

    const [list, listJson] = await Promise.all([
      catena(['account', 'list', '--datadir', datadir]),
      catena(['account', 'list', '--datadir', datadir, '--json']),
    ])
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, new RegExp(`^#0 +${address} +${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'))
    assert.deepEqual(JSON.parse(listJson.stdout), [{ address, path }])
  })

  test('account new refuses an empty password, and a missing password source, writing nothing', async () => {
    const datadir = join(tmp, 'refused')
    const empty = join(tmp, 'empty-password.txt')
    await writeFile(empty, '\n')
    const [emptyRun, noSource, envEmpty] = await Promise.all([
      catena(['account', 'new', '--datadir', datadir, '--password-file', empty]),
      catena(['account', 'new', '--datadir', datadir]),
      catena(['account', 'new', '--datadir', datadir], { CATENA_PASSWORD: '' }),
    ])
    assertFails(emptyRun, /empty password/)
    assertFails(noSource, /no password given and stdin is not a terminal: use --password-file <file> or set CATENA_PASSWORD/)
    assertFails(envEmpty, /empty password from CATENA_PASSWORD/)
    assert.deepEqual(await listing(datadir), [], 'no datadir or keystore folder created')
  })

  test('account import --keystore checks the password, then copies; a wrong password or a duplicate changes nothing', async () => {
    const datadir = join(tmp, 'import-ks')
    const key = secp256k1.utils.randomSecretKey()
    const address = toChecksumAddress(privateKeyToAddress(key))
    const file = join(tmp, 'foreign-keystore.json')
    await writeFile(file, JSON.stringify(await encryptKeystore(key, 'foreign pw', { scryptN: 1024 })))
    const foreignPw = join(tmp, 'foreign-pw.txt')
    await writeFile(foreignPw, 'foreign pw')

    const wrong = await catena(['account', 'import', '--keystore', file, '--datadir', datadir, '--password-file', pwFile])
    assertFails(wrong, /cannot import .*wrong password/)
    assert.deepEqual(await listing(datadir), [])

    const ok = await catena(['account', 'import', '--keystore', file, '--datadir', datadir], { CATENA_PASSWORD: 'foreign pw' })
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, new RegExp(`imported account ${address}`))
    const files = await listing(join(datadir, 'keystore'))
    assert.equal(files.length, 1)
    const copied = join(datadir, 'keystore', files[0]!)
    assert.equal((await stat(copied)).mode & 0o777, 0o600)
    assert.deepEqual(await decryptKeystore(await readFile(copied, 'utf8'), 'foreign pw'), key)

    const dup = await catena(['account', 'import', '--keystore', file, '--datadir', datadir, '--password-file', foreignPw])
    assertFails(dup, new RegExp(`an account for ${address} already exists`))
    assert.equal((await listing(join(datadir, 'keystore'))).length, 1)
  })

  test('bad account arguments: one clear line each, nothing written', async () => {
    const datadir = join(tmp, 'bad-account')
    const notKey = join(tmp, 'not-a-key.txt')
    await writeFile(notKey, 'deadbeef-this-is-secret\n')
    const notJson = join(tmp, 'not-json.txt')
    await writeFile(notJson, 'hello')
    const runs = await Promise.all([
      catena(['account', 'import', '--datadir', datadir, '--password-file', pwFile]),
      catena(['account', 'import', '--private-key-file', notKey, '--datadir', datadir, '--password-file', pwFile]),
      catena(['account', 'import', '--private-key-file', join(tmp, 'missing'), '--datadir', datadir, '--password-file', pwFile]),
      catena(['account', 'import', '--keystore', notJson, '--datadir', datadir, '--password-file', pwFile]),
      catena(['account', 'import', '--keystore', notJson, '--private-key-file', notKey, '--datadir', datadir]),
      catena(['account', 'new', '--datadir', datadir, '--password-file', pwFile], { CATENA_KEYSTORE_SCRYPT_N: '1000' }),
    ])
    assertFails(runs[0]!, /needs --keystore <file> or --private-key-file <file>/)
    assertFails(runs[1]!, /does not hold a private key/)
    assert.ok(!runs[1]!.stderr.includes('deadbeef'), 'the key file content is never echoed')
    assertFails(runs[2]!, /cannot read private key file .*missing: no such file/)
    assertFails(runs[3]!, /is not a keystore \(not JSON\)/)
    assertFails(runs[4]!, /cannot be used with option/)
    assertFails(runs[5]!, /CATENA_KEYSTORE_SCRYPT_N must be a power of two/)
    assert.deepEqual(await listing(datadir), [])
  })

  describe('with dev account #0 imported from its private key', () => {
    const datadir = () => join(tmp, 'sender')
    const recipient = toChecksumAddress(privateKeyToAddress(secp256k1.utils.randomSecretKey()))

    before(async () => {
      const keyFile = join(tmp, 'dev0.key')
      const [dev0] = deriveKeys(TEST_MNEMONIC, 1)
      await writeFile(keyFile, `${bytesToHex(dev0!.privateKey)}\n`, { mode: 0o600 })
      const r = await catena(['account', 'import', '--private-key-file', keyFile, '--datadir', datadir(), '--password-file', pwFile])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`imported account ${DEV0}`))
      assert.ok(!r.stdout.includes(bytesToHex(dev0!.privateKey).slice(2)))
    })

    test('send --wait: signed locally, mined, and the recipient holds the value', async () => {
      const r = await catena([
        'send', '--to', recipient, '--value', '1.5', '--rpc', node.rpcUrl,
        '--datadir', datadir(), '--password-file', pwFile, '--wait',
      ])
      assert.equal(r.code, 0, r.stderr)
      const hash = /^tx hash: +(0x[0-9a-f]{64})$/m.exec(r.stdout)?.[1]
      assert.ok(hash, r.stdout)
      assert.match(r.stdout, /^block: +\d+ \(0x[0-9a-f]{64}\)$/m)
      assert.match(r.stdout, /^status: +success$/m)
      assert.match(r.stdout, /^gas used: +21000$/m)
      assert.match(r.stderr, new RegExp(`sending 1.5 ETH from ${DEV0} to ${recipient} on chain 1337`))

      assert.equal(BigInt(await node.rpc('eth_getBalance', [recipient, 'latest'])), 1_500_000_000_000_000_000n)
      const tx = await node.rpc('eth_getTransactionByHash', [hash])
      assert.equal(tx.type, '0x2')
      assert.equal(tx.from.toLowerCase(), DEV0.toLowerCase())
      const receipt = await node.rpc('eth_getTransactionReceipt', [hash])
      assert.equal(receipt.status, '0x1')
    })

    test('status: one block of text, or JSON', async () => {
      const [text, json] = await Promise.all([
        catena(['status', '--rpc', node.rpcUrl]),
        catena(['status', '--rpc', node.rpcUrl, '--json']),
      ])
      assert.equal(text.code, 0, text.stderr)
      assert.match(text.stdout, /^client +Catena\/v/m)
      assert.match(text.stdout, /^chain id +1337$/m)
      assert.match(text.stdout, /^head +#\d+ 0x[0-9a-f]{64}$/m)
      assert.match(text.stdout, /^head time +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(.+ ago\)$/m)
      assert.match(text.stdout, /^peers +0$/m)
      assert.match(text.stdout, /^gas price +[\d.]+ gwei$/m)
      assert.match(text.stdout, /^syncing +no$/m)
      assert.equal(json.code, 0, json.stderr)
      const s = JSON.parse(json.stdout)
      assert.equal(s.chainId, 1337)
      assert.equal(s.head.number, Number(BigInt(await node.rpc('eth_blockNumber'))))
      assert.equal(s.syncing, false)
      assert.equal(s.peerCount, 0)
      assert.equal(typeof s.headAgeSeconds, 'number')
    })

    test('bad sends: one clear line each, exit != 0, no tx and nothing on disk changed', async () => {
      const keystore = join(datadir(), 'keystore')
      const before = await listing(keystore)
      const nonceBefore = await node.rpc('eth_getTransactionCount', [DEV0, 'pending'])
      const wrongPw = join(tmp, 'wrong-pw.txt')
      await writeFile(wrongPw, 'not the password\n')
      const unreachable = await freePortUrl()
      const common = ['--rpc', node.rpcUrl, '--datadir', datadir(), '--password-file', pwFile]
      // The recipient with the case of one letter flipped: a typo the EIP-55 checksum catches.
      const at = recipient.slice(2).search(/[a-fA-F]/) + 2
      const flipped = recipient[at]! === recipient[at]!.toLowerCase() ? recipient[at]!.toUpperCase() : recipient[at]!.toLowerCase()
      const badChecksum = recipient.slice(0, at) + flipped + recipient.slice(at + 1)
      const cases: [string[], RegExp][] = [
        [['send', '--to', '0x1234', '--value', '1', ...common], /option '--to <address>' argument '0x1234' is invalid/],
        [['send', '--to', badChecksum, '--value', '1', ...common], /wrong EIP-55 checksum/],
        [['send', '--to', recipient, '--value', '1.5btc', ...common], /unknown unit "btc"/],
        [['send', '--to', recipient, '--value', '1000000', ...common], /the node rejected the transaction: insufficient funds/],
        [['send', '--to', recipient, '--value', '1', '--rpc', node.rpcUrl, '--datadir', datadir(), '--password-file', wrongPw], /cannot unlock 0x[0-9a-fA-F]{40}: wrong password/],
        [['send', '--to', recipient, '--value', '1', '--rpc', unreachable, '--datadir', datadir(), '--password-file', pwFile], new RegExp(`cannot reach node at ${unreachable}: is it running\\?`)],
        [['send', '--to', recipient, '--value', '1', '--rpc', node.rpcUrl, '--datadir', join(tmp, 'nobody'), '--password-file', pwFile], /no keystore in .*nobody.*catena account new/],
        [['send', '--to', recipient, '--value', '1', '--from', recipient, ...common], new RegExp(`no keystore for ${recipient}`)],
        [['send', '--to', recipient, '--value', '1', '--max-fee', '1', '--priority-fee', '2', ...common], /--max-fee \(1 gwei\) is below --priority-fee \(2 gwei\)/],
        [['status', '--rpc', unreachable], new RegExp(`cannot reach node at ${unreachable}: is it running\\?`)],
      ]
      // Amount and address syntax is covered case by case in test/unit/cli; here each kind of
      // failure once, end to end. Two at a time: two cores, and other suites run too.
      for (let i = 0; i < cases.length; i += 2) {
        const batch = cases.slice(i, i + 2)
        const results = await Promise.all(batch.map(([args]) => catena(args)))
        results.forEach((r, j) => assertFails(r, batch[j]![1], batch[j]![0].join(' ')))
      }
      assert.equal(await node.rpc('eth_getTransactionCount', [DEV0, 'pending']), nonceBefore, 'no tx was sent')
      assert.deepEqual(await listing(keystore), before)
      assert.deepEqual(await listing(join(tmp, 'nobody')), [])
    })
  })

  test(
    'account new at a hidden prompt (pseudo-terminal via tmux): the password is not echoed',
    { skip: TMUX_MISSING },
    async () => {
      const datadir = join(tmp, 'tty')
      await mkdir(datadir)
      const secret = 'Pr0mpt-s3cret-XYZ'
      const term = new TerminalSession(['account', 'new', '--datadir', datadir])
      try {
        await term.showing('New password:')
        term.type(secret)
        // Once the second prompt shows, the first line was read: any echo would be on screen.
        const second = await term.showing('Repeat password:', 10_000)
        assert.ok(!second.includes(secret), `typed password is echoed:\n${second}`)
        term.type(secret)
        const final = await term.showing('EXIT=')
        assert.match(final, /EXIT=0/, final)
        assert.ok(!final.includes(secret), `password visible on the terminal:\n${final}`)
        const address = /created account (0x[0-9a-fA-F]{40})/.exec(final)?.[1]
        assert.ok(address, final)
        const files = await listing(join(datadir, 'keystore'))
        assert.equal(files.length, 1)
        const key = await decryptKeystore(await readFile(join(datadir, 'keystore', files[0]!), 'utf8'), secret)
        assert.equal(toChecksumAddress(privateKeyToAddress(key)), address)
      } finally {
        term.close()
      }
    },
  )
})
