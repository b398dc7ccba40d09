/**
 * `catena wallet` and `catena tx build | sign | broadcast` as a user runs them: each CLI call
 * is a child process, against a real dev node in another process. `tx sign` runs with a
 * preloaded module that makes every socket API throw, which proves it needs no network;
 * `wallet create` is driven through a real pseudo-terminal with tmux when it is installed.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { privateKeyToAddress, toChecksumAddress } from '../../src/crypto/index.ts'
import { TEST_MNEMONIC, decryptKeystore, deriveKeys } from '../../src/wallet/index.ts'
import { makeDatadir, removeDatadir, startNode, type NodeProcess } from '../helpers/node-process.ts'
import { assertFails, catena } from '../helpers/cli.ts'
import { TMUX_MISSING, TerminalSession } from '../helpers/terminal.ts'

const DEV0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const DEV1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

/** Loaded with --import before the CLI: every way to open a connection throws and is reported. */
const NO_NETWORK_PRELOAD = String.raw`
import net from 'node:net'
import tls from 'node:tls'
import http from 'node:http'
import https from 'node:https'
import dns from 'node:dns'
import dgram from 'node:dgram'
import { syncBuiltinESMExports } from 'node:module'
const blocked = (what) => function () {
  process.stderr.write('NETWORK-ATTEMPT ' + what + '\n')
  throw new Error('network access blocked by the test (' + what + ')')
}
// tsx (which runs the CLI from source) talks to its parent over a local pipe,
// <tmpdir>/tsx-<uid>/<pid>.pipe: that is the test harness, not the CLI, so only that passes.
const tsxPipe = /[\\/]tsx-\d+[\\/]\d+\.pipe$/
const isTsxPipe = (args) => {
  let target = args[0]
  if (Array.isArray(target)) target = target[0] // net.connect hands Socket#connect its normalized args
  const path = typeof target === 'string' ? target : target && typeof target === 'object' ? target.path : undefined
  return typeof path === 'string' && tsxPipe.test(path)
}
const guard = (original, what) => function (...args) {
  if (isTsxPipe(args)) return original.apply(this, args)
  return blocked(what + ' ' + JSON.stringify(args[0]))()
}
net.connect = net.createConnection = guard(net.connect, 'net.connect')
net.Socket.prototype.connect = guard(net.Socket.prototype.connect, 'net.Socket.prototype.connect')
tls.connect = blocked('tls.connect')
http.request = http.get = blocked('http.request')
https.request = https.get = blocked('https.request')
dns.lookup = blocked('dns.lookup')
dns.promises.lookup = blocked('dns.promises.lookup')
dgram.createSocket = blocked('dgram.createSocket')
globalThis.fetch = blocked('fetch')
syncBuiltinESMExports()
`

async function listing(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort()
  } catch {
    return []
  }
}

async function missing(path: string): Promise<boolean> {
  return stat(path).then(() => false, () => true)
}

describe('catena wallet and offline signing', () => {
  let node: NodeProcess
  let tmp: string
  let pwFile: string
  let mnemonicFile: string
  let noNetwork: Record<string, string>
  const password = 'cold storage password'
  const cold = () => join(tmp, 'cold') // the offline machine's datadir

  before(async () => {
    tmp = await makeDatadir('catena-wallet-cli-')
    pwFile = join(tmp, 'password.txt')
    await writeFile(pwFile, `${password}\n`)
    mnemonicFile = join(tmp, 'mnemonic.txt')
    await writeFile(mnemonicFile, `${TEST_MNEMONIC}\n`, { mode: 0o600 })
    const preload = join(tmp, 'no-network.mjs')
    await writeFile(preload, NO_NETWORK_PRELOAD)
    noNetwork = { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}` }
    node = await startNode({ datadir: join(tmp, 'node') })
  })

  after(async () => {
    await node?.stop()
    await removeDatadir(tmp)
  })

  test('wallet restore --mnemonic-file: the test mnemonic gives the known addresses; --import-index stores one', async () => {
    const [show, imported] = await Promise.all([
      catena(['wallet', 'restore', '--mnemonic-file', mnemonicFile, '--count', '2']),
      catena(['wallet', 'restore', '--mnemonic-file', mnemonicFile, '--count', '1', '--import-index', '0', '--datadir', cold(), '--password-file', pwFile]),
    ])
    assert.equal(show.code, 0, show.stderr)
    assert.match(show.stdout, new RegExp(`^m/44'/60'/0'/0/0 +${DEV0}$`, 'm'))
    assert.match(show.stdout, new RegExp(`^m/44'/60'/0'/0/1 +${DEV1}$`, 'm'))
    assert.ok(!show.stdout.includes('junk') && !show.stderr.includes('junk'), 'the mnemonic is never printed')

    assert.equal(imported.code, 0, imported.stderr)
    assert.match(imported.stdout, new RegExp(`imported account #0 ${DEV0}`))
    const files = await listing(join(cold(), 'keystore'))
    assert.equal(files.length, 1)
    const path = join(cold(), 'keystore', files[0]!)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.equal(toChecksumAddress(privateKeyToAddress(await decryptKeystore(await readFile(path, 'utf8'), password))), DEV0)
  })

  test('wallet restore: a bad mnemonic is one clear line naming the problem', async () => {
    const typo = join(tmp, 'typo.txt')
    await writeFile(typo, TEST_MNEMONIC.replace(/^(\S+ \S+ \S+ \S+) test/, '$1 tset'))
    const checksum = join(tmp, 'checksum.txt')
    await writeFile(checksum, 'test '.repeat(12))
    const [a, b, c] = await Promise.all([
      catena(['wallet', 'restore', '--mnemonic-file', typo]),
      catena(['wallet', 'restore', '--mnemonic-file', checksum]),
      catena(['wallet', 'restore']),
    ])
    assertFails(a, /unknown word "tset" at position 5/)
    assertFails(b, /bad checksum/)
    assertFails(c, /no mnemonic: use --mnemonic-file <file>/)
  })

  test('wallet create without a terminal: refused, or written to a new --mnemonic-out file', async () => {
    const datadir = join(tmp, 'scripted')
    const refused = await catena(['wallet', 'create', '--datadir', datadir, '--password-file', pwFile])
    assertFails(refused, /needs a terminal; a script can use --mnemonic-out/)
    assert.deepEqual(await listing(datadir), [])

    const out = join(tmp, 'new-mnemonic.txt')
    const r = await catena(['wallet', 'create', '--datadir', datadir, '--password-file', pwFile, '--mnemonic-out', out, '--count', '1', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    const phrase = (await readFile(out, 'utf8')).trim()
    assert.equal(phrase.split(' ').length, 24)
    assert.equal((await stat(out)).mode & 0o777, 0o600)
    const expected = toChecksumAddress(privateKeyToAddress(deriveKeys(phrase, 1)[0]!.privateKey))
    assert.equal(result.accounts[0].address, expected)
    const key = await decryptKeystore(await readFile(result.keystore, 'utf8'), password)
    assert.equal(toChecksumAddress(privateKeyToAddress(key)), expected)
    assert.ok(!r.stdout.includes(phrase.split(' ').slice(0, 3).join(' ')) && !r.stderr.includes(phrase.split(' ').slice(0, 3).join(' ')))

    const again = await catena(['wallet', 'create', '--datadir', datadir, '--password-file', pwFile, '--mnemonic-out', out])
    assertFails(again, /already exists: --mnemonic-out never overwrites a file/)
    assert.equal((await readFile(out, 'utf8')).trim(), phrase)
  })

  describe('build online, sign offline, broadcast online', () => {
    const recipient = toChecksumAddress(privateKeyToAddress(secp256k1.utils.randomSecretKey()))
    const value = 1_250_000_000_000_000_000n
    const unsigned = () => join(tmp, 'unsigned.json')
    const signed = () => join(tmp, 'signed.json')

    test('tx build asks the node and writes the unsigned file with a plain-words summary', async () => {
      const nonce = BigInt(await node.rpc('eth_getTransactionCount', [DEV0, 'pending']))
      const r = await catena(['tx', 'build', '--from', DEV0, '--to', recipient, '--value', '1.25', '--rpc', node.rpcUrl, '--out', unsigned()])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /unsigned transaction written to/)
      const file = JSON.parse(await readFile(unsigned(), 'utf8'))
      assert.equal(file.format, 'catena-unsigned-tx')
      assert.equal(file.version, 1)
      assert.equal(file.from, DEV0)
      assert.equal(file.tx.type, '0x2')
      assert.equal(file.tx.chainId, '0x539')
      assert.equal(BigInt(file.tx.nonce), nonce)
      assert.equal(BigInt(file.tx.value), value)
      assert.equal(file.tx.gasLimit, '0x5208', 'eth_estimateGas of a plain transfer')
      assert.equal(file.tx.to, recipient)
      assert.ok(BigInt(file.tx.maxFeePerGas) >= BigInt(file.tx.maxPriorityFeePerGas))
      assert.equal(file.summary.value, '1.25 ETH (1250000000000000000 wei)')
      assert.equal(file.summary.chainId, '1337')
      assert.equal(file.summary.chainName, 'Catena dev')
      assert.equal(file.summary.nonce, String(nonce))
      assert.equal(file.summary.data, 'none')
      assert.match(file.summary.maxTotalFee, /^[\d.]+ ETH \(\d+ wei\) = gas limit x max fee per gas$/)
      assert.match(r.stdout, /^ {2}value +1\.25 ETH/m)

      const again = await catena(['tx', 'build', '--from', DEV0, '--to', recipient, '--value', '1.25', '--rpc', node.rpcUrl, '--out', unsigned()])
      assertFails(again, /already exists: choose another --out, or add --force/)
    })

    test('the no-network preload really blocks: tx build under it fails', async () => {
      const r = await catena(['tx', 'build', '--from', DEV0, '--to', recipient, '--value', '1', '--rpc', node.rpcUrl, '--out', join(tmp, 'never.json')], noNetwork)
      assert.notEqual(r.code, 0)
      assert.match(r.stderr, /NETWORK-ATTEMPT/)
      assert.ok(await missing(join(tmp, 'never.json')))
    })

    test('tx sign with a wrong password fails cleanly and writes no file', async () => {
      const wrong = join(tmp, 'wrong.txt')
      await writeFile(wrong, 'not it\n')
      const out = join(tmp, 'signed-wrong.json')
      const r = await catena(['tx', 'sign', unsigned(), '--datadir', cold(), '--password-file', wrong, '--out', out, '--yes'], noNetwork)
      assertFails(r, new RegExp(`cannot unlock ${DEV0}: wrong password`))
      assert.ok(await missing(out))
      assert.ok(!(await listing(tmp)).some((f) => f.endsWith('.tmp')), 'no temp file left')
    })

    test('tx sign: no network access at all, the summary shown, the signed file written', async () => {
      const keystore = join(cold(), 'keystore', (await listing(join(cold(), 'keystore')))[0]!)
      const noYes = await catena(['tx', 'sign', unsigned(), '--keystore', keystore, '--password-file', pwFile, '--out', signed()], noNetwork)
      assertFails(noYes, /stdin is not a terminal.*add --yes/)
      assert.ok(await missing(signed()))

      const r = await catena(['tx', 'sign', unsigned(), '--keystore', keystore, '--password-file', pwFile, '--out', signed(), '--yes'], noNetwork)
      assert.equal(r.code, 0, r.stderr)
      assert.ok(!r.stderr.includes('NETWORK-ATTEMPT'), r.stderr)
      assert.match(r.stderr, /^EIP-1559 transaction$/m)
      assert.match(r.stderr, new RegExp(`^ {2}to +${recipient}$`, 'm'))
      assert.match(r.stderr, /^ {2}value +1\.25 ETH \(1250000000000000000 wei\)$/m)
      assert.match(r.stderr, /^ {2}chain +1337 \(Catena dev\)$/m)
      const file = JSON.parse(await readFile(signed(), 'utf8'))
      assert.equal(file.format, 'catena-signed-tx')
      assert.match(file.raw, /^0x02[0-9a-f]+$/)
      assert.match(r.stdout, new RegExp(`tx hash: ${file.hash}`))
      assert.deepEqual(file.tx, JSON.parse(await readFile(unsigned(), 'utf8')).tx)
    })

    test('tampered or malformed files are refused with the field named, and nothing is sent', async () => {
      const nonceBefore = await node.rpc('eth_getTransactionCount', [DEV0, 'pending'])
      const u = JSON.parse(await readFile(unsigned(), 'utf8'))
      const s = JSON.parse(await readFile(signed(), 'utf8'))
      const write = async (name: string, obj: unknown) => {
        const p = join(tmp, name)
        await writeFile(p, typeof obj === 'string' ? obj : JSON.stringify(obj))
        return p
      }
      const moreValue = await write('t-value.json', { ...u, tx: { ...u.tx, value: '0x8ac7230489e80000' } })
      const otherTo = await write('t-to.json', { ...s, tx: { ...s.tx, to: DEV1 }, summary: { ...s.summary, to: DEV1 } })
      const garbage = await write('t-garbage.json', '{"format": "catena-signed-tx", ')
      const unsignedAsSigned = unsigned()
      const runs = await Promise.all([
        catena(['tx', 'sign', moreValue, '--datadir', cold(), '--password-file', pwFile, '--out', join(tmp, 'x.json'), '--yes'], noNetwork),
        catena(['tx', 'broadcast', otherTo, '--rpc', node.rpcUrl]),
      ])
      assertFails(runs[0]!, /t-value\.json: summary\.value is "1\.25 ETH .*" but the transaction's fields say "10 ETH .*": the file was edited/)
      assertFails(runs[1]!, /t-to\.json: tx\.to is .* but the signed raw transaction has/)
      const more = await Promise.all([
        catena(['tx', 'broadcast', garbage, '--rpc', node.rpcUrl]),
        catena(['tx', 'broadcast', unsignedAsSigned, '--rpc', node.rpcUrl]),
      ])
      assertFails(more[0]!, /t-garbage\.json: not a transaction file: not valid JSON/)
      assertFails(more[1]!, /this is an unsigned transaction file; expected a signed one/)
      assert.ok(await missing(join(tmp, 'x.json')))
      assert.equal(await node.rpc('eth_getTransactionCount', [DEV0, 'pending']), nonceBefore, 'nothing was sent')
    })

    test('tx broadcast --wait: mined, the recipient holds the value, and the signer is the sender', async () => {
      const file = JSON.parse(await readFile(signed(), 'utf8'))
      const before = BigInt(await node.rpc('eth_getBalance', [recipient, 'latest']))
      const r = await catena(['tx', 'broadcast', signed(), '--rpc', node.rpcUrl, '--wait'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`^tx hash: +${file.hash}$`, 'm'))
      assert.match(r.stdout, /^status: +success$/m)
      const receipt = await node.rpc('eth_getTransactionReceipt', [file.hash])
      assert.ok(receipt, 'the receipt exists')
      assert.equal(receipt.status, '0x1')
      assert.equal(BigInt(await node.rpc('eth_getBalance', [recipient, 'latest'])) - before, value)
      const tx = await node.rpc('eth_getTransactionByHash', [file.hash])
      assert.equal(toChecksumAddress(tx.from), DEV0)
      assert.equal(tx.type, '0x2')

      const balance = await catena(['wallet', 'balance', recipient, DEV0, '--rpc', node.rpcUrl, '--json'])
      assert.equal(balance.code, 0, balance.stderr)
      const b = JSON.parse(balance.stdout)
      assert.equal(b.chainId, 1337)
      assert.deepEqual(b.accounts[0], { address: recipient, balance: value.toString(), nonce: 0, pendingNonce: 0 })
      assert.equal(b.accounts[1].address, DEV0)
      assert.equal(b.accounts[1].nonce, Number(BigInt(file.tx.nonce)) + 1)

      const fromKeystore = await catena(['wallet', 'balance', '--rpc', node.rpcUrl, '--datadir', cold()])
      assert.equal(fromKeystore.code, 0, fromKeystore.stderr)
      assert.match(fromKeystore.stdout, /^chain 1337 at block #\d+/m)
      assert.match(fromKeystore.stdout, new RegExp(`^${DEV0} +[\\d.]+ ETH +nonce ${Number(BigInt(file.tx.nonce)) + 1}$`, 'm'))
    })
  })

  test(
    'wallet create on a real terminal (tmux): shown once, confirmed, password hidden, key stored',
    { skip: TMUX_MISSING },
    async () => {
      const datadir = join(tmp, 'tty')
      await mkdir(datadir)
      const secret = 'Wallet-s3cret-QRS'
      const term = new TerminalSession(['wallet', 'create', '--words', '12', '--count', '2', '--datadir', datadir])
      const showing = (what: string | RegExp) => term.showing(what)
      const type = (text: string) => term.type(text)
      try {
        const shown = await showing('Press Enter once you have written the words down')
        assert.match(shown, /shown only this once/)
        const words: string[] = []
        for (const m of shown.matchAll(/(\d+)\. ([a-z]+)/g)) words[Number(m[1]) - 1] = m[2]!
        assert.equal(words.filter(Boolean).length, 12, shown)
        type('')

        const asked = await showing(/Word #\d+:/)
        assert.ok(!/\d+\. [a-z]+ /.test(asked) && !asked.includes('shown only this once'), `the phrase is cleared before the check:\n${asked}`)
        const [k, j] = /type words #(\d+) and #(\d+)/.exec(asked)!.slice(1).map(Number)
        type(words[k! - 1]!)
        await showing(`Word #${j}:`)
        type(words[j! - 1]!)

        await showing('New password:')
        type(secret)
        const second = await showing('Repeat password:')
        assert.ok(!second.includes(secret), `typed password is echoed:\n${second}`)
        type(secret)

        const final = await showing('EXIT=')
        assert.match(final, /EXIT=0/, final)
        assert.ok(!final.includes(secret), `password visible on the terminal:\n${final}`)
        assert.ok(!final.includes(words.join(' ')), 'the phrase is not left on the screen')
        const address = new RegExp("m/44'/60'/0'/0/0 +(0x[0-9a-fA-F]{40})  \\(in keystore\\)").exec(final)?.[1]
        assert.ok(address, final)
        const expected = deriveKeys(words.join(' '), 2).map((x) => toChecksumAddress(privateKeyToAddress(x.privateKey)))
        assert.equal(address, expected[0], 'the address printed is the first of the mnemonic shown')
        assert.match(final, new RegExp(`m/44'/60'/0'/0/1 +${expected[1]}`))
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
