/**
 * The offline-signing file format (src/wallet/offline-tx.ts): build, parse, sign, and every way
 * a file can be wrong — each error names its field.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTransaction, recoverTransactionAddress, serializeTransaction } from 'viem'
import type { TransactionSerializableEIP1559 } from 'viem'
import {
  KNOWN_CHAINS,
  OfflineTxError,
  TEST_MNEMONIC,
  buildUnsignedTx,
  deriveKeys,
  formatSummary,
  parseSignedTx,
  parseUnsignedTx,
  serializeTxFile,
  signUnsignedTx,
  summarizeTx,
} from '../../../src/wallet/index.ts'
import type { OfflineTxErrorCode, OfflineTxFields } from '../../../src/wallet/index.ts'

const [k0, k1] = deriveKeys(TEST_MNEMONIC, 2)
const DEV0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const DEV1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const chainNames = new Map([[1337n, 'Catena dev']])

const fields: OfflineTxFields = {
  chainId: 1337n,
  nonce: 7n,
  maxPriorityFeePerGas: 1_000_000_000n,
  maxFeePerGas: 2_500_000_000n,
  gasLimit: 21000n,
  to: DEV1,
  value: 1_500_000_000_000_000_000n,
  data: '0x',
}

const isErr = (code: OfflineTxErrorCode, field?: string, pattern?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof OfflineTxError, `expected OfflineTxError, got ${String(e)}`)
  assert.equal(e.code, code, e.message)
  if (field !== undefined) assert.equal(e.field, field, e.message)
  if (pattern) assert.match(e.message, pattern)
  assert.ok(!e.message.includes('\n'), 'one line')
  return true
}

/** The JSON of a file with `edit` applied. */
function edited(file: object, edit: (f: any) => void): string {
  const copy = JSON.parse(JSON.stringify(file))
  edit(copy)
  return JSON.stringify(copy)
}

describe('unsigned files', () => {
  test('build -> serialize -> parse round trip keeps every field exactly', () => {
    const file = buildUnsignedTx(DEV0.toLowerCase(), fields, { chainNames })
    assert.equal(file.format, 'catena-unsigned-tx')
    assert.equal(file.version, 1)
    assert.equal(file.from, DEV0, 'from is EIP-55')
    assert.deepEqual(file.tx, {
      type: '0x2',
      chainId: '0x539',
      nonce: '0x7',
      maxPriorityFeePerGas: '0x3b9aca00',
      maxFeePerGas: '0x9502f900',
      gasLimit: '0x5208',
      to: DEV1,
      value: '0x14d1120d7b160000',
      data: '0x',
      accessList: [],
    })
    const parsed = parseUnsignedTx(serializeTxFile(file), { chainNames })
    assert.deepEqual(parsed.fields, fields)
    assert.equal(parsed.from, DEV0)
    assert.deepEqual(parsed.file, file)
  })

  test('the summary says it in plain words: ETH and wei, fees, max total fee, chain name, nonce, data', () => {
    const s = summarizeTx(DEV0, { ...fields, data: '0xa9059cbb0000' }, { chainNames })
    assert.equal(s.to, DEV1)
    assert.equal(s.value, '1.5 ETH (1500000000000000000 wei)')
    assert.equal(s.maxFeePerGas, '2.5 gwei (2500000000 wei)')
    assert.equal(s.maxPriorityFeePerGas, '1 gwei (1000000000 wei)')
    assert.equal(s.gasLimit, '21000')
    assert.equal(s.maxTotalFee, '0.0000525 ETH (52500000000000 wei) = gas limit x max fee per gas')
    assert.equal(s.maxTotalCost, '1.5000525 ETH (1500052500000000000 wei) = value + max total fee')
    assert.equal(s.chainId, '1337')
    assert.equal(s.chainName, 'Catena dev')
    assert.equal(s.nonce, '7')
    assert.equal(s.data, '6 bytes (starting 0xa9059cbb)')
    assert.equal(summarizeTx(DEV0, fields).chainName, null, 'unknown chain: no name')
    assert.equal(summarizeTx(DEV0, { ...fields, chainId: 1n }).chainName, KNOWN_CHAINS.get(1n))
    assert.equal(summarizeTx(DEV0, { ...fields, to: null }).to, 'none: this transaction creates a contract')

    const text = formatSummary(s)
    assert.match(text, /^ {2}value +1\.5 ETH \(1500000000000000000 wei\)$/m)
    assert.match(text, /^ {2}max total fee +0\.0000525 ETH/m)
    assert.match(text, /^ {2}chain +1337 \(Catena dev\)$/m)
    assert.match(text, /^ {2}nonce +7$/m)
    assert.match(formatSummary(summarizeTx(DEV0, fields)), /^ {2}chain +1337 \(unknown chain\)$/m)
  })

  test('malformed or tampered unsigned files: a clear error naming the field', () => {
    const file = buildUnsignedTx(DEV0, fields, { chainNames })
    const parse = (text: string) => () => parseUnsignedTx(text, { chainNames })
    assert.throws(parse('{not json'), isErr('MALFORMED_FILE', undefined, /not valid JSON/))
    assert.throws(parse('[1]'), isErr('MALFORMED_FILE', undefined, /not a JSON object/))
    assert.throws(parse(edited(file, (f) => (f.format = 'psbt'))), isErr('UNSUPPORTED_FORMAT', 'format'))
    assert.throws(parse(edited(file, (f) => (f.format = 'catena-signed-tx'))), isErr('WRONG_FILE_KIND', 'format', /this is a signed transaction file/))
    assert.throws(parse(edited(file, (f) => (f.version = 2))), isErr('UNSUPPORTED_VERSION', 'version'))
    assert.throws(parse(edited(file, (f) => (f.extra = 1))), isErr('UNKNOWN_FIELD', 'extra'))
    assert.throws(parse(edited(file, (f) => (f.tx.gasPrice = '0x1'))), isErr('UNKNOWN_FIELD', 'tx.gasPrice'))
    assert.throws(parse(edited(file, (f) => delete f.tx)), isErr('MALFORMED_FILE', 'tx', /tx is missing/))
    assert.throws(parse(edited(file, (f) => (f.tx.type = '0x0'))), isErr('INVALID_FIELD', 'tx.type'))
    assert.throws(parse(edited(file, (f) => (f.tx.value = '1500'))), isErr('INVALID_FIELD', 'tx.value', /hex quantity/))
    assert.throws(parse(edited(file, (f) => (f.tx.nonce = '0x07'))), isErr('INVALID_FIELD', 'tx.nonce', /no leading zeros/))
    assert.throws(parse(edited(file, (f) => delete f.tx.gasLimit)), isErr('INVALID_FIELD', 'tx.gasLimit', /missing/))
    assert.throws(parse(edited(file, (f) => (f.tx.gasLimit = '0x100'))), isErr('INVALID_FIELD', 'tx.gasLimit', /21000/))
    assert.throws(parse(edited(file, (f) => (f.tx.chainId = '0x0'))), isErr('INVALID_FIELD', 'tx.chainId'))
    assert.throws(parse(edited(file, (f) => (f.tx.value = `0x1${'0'.repeat(64)}`))), isErr('INVALID_FIELD', 'tx.value', /largest/))
    assert.throws(parse(edited(file, (f) => (f.tx.to = '0x1234'))), isErr('INVALID_FIELD', 'tx.to', /not a valid address/))
    assert.throws(parse(edited(file, (f) => (f.tx.to = DEV1.replace('C51', 'c51')))), isErr('INVALID_FIELD', 'tx.to', /checksum/))
    assert.throws(parse(edited(file, (f) => delete f.tx.to)), isErr('INVALID_FIELD', 'tx.to', /null for a contract creation/))
    assert.throws(parse(edited(file, (f) => (f.tx.data = '0xabc'))), isErr('INVALID_FIELD', 'tx.data'))
    assert.throws(parse(edited(file, (f) => (f.tx.accessList = [{ address: DEV1, storageKeys: [] }]))), isErr('INVALID_FIELD', 'tx.accessList'))
    assert.throws(parse(edited(file, (f) => (f.tx.maxPriorityFeePerGas = '0x9502f901'))), isErr('INVALID_FIELD', 'tx.maxPriorityFeePerGas', /above tx.maxFeePerGas/))
    assert.throws(parse(edited(file, (f) => (f.from = 'alice'))), isErr('INVALID_FIELD', 'from'))
    assert.throws(parse(edited(file, (f) => delete f.summary)), isErr('MALFORMED_FILE', 'summary'))
    assert.throws(parse(edited(file, (f) => (f.summary.note = 'hi'))), isErr('UNKNOWN_FIELD', 'summary.note'))
  })

  test('a value edited without its summary (or the reverse) is caught', () => {
    const file = buildUnsignedTx(DEV0, fields, { chainNames })
    const parse = (text: string) => () => parseUnsignedTx(text, { chainNames })
    assert.throws(parse(edited(file, (f) => (f.tx.value = '0xde0b6b3a7640000'))), isErr('SUMMARY_MISMATCH', 'summary.value', /the file was edited/))
    assert.throws(parse(edited(file, (f) => (f.summary.value = '0.1 ETH (100000000000000000 wei)'))), isErr('SUMMARY_MISMATCH', 'summary.value'))
    assert.throws(parse(edited(file, (f) => (f.tx.to = DEV0))), isErr('SUMMARY_MISMATCH', 'summary.to'))
    assert.throws(parse(edited(file, (f) => (f.summary.chainName = 'Ethereum Mainnet'))), isErr('SUMMARY_MISMATCH', 'summary.chainName'))
    assert.throws(parse(edited(file, (f) => (f.summary.chainName = 'Catena test'))), isErr('SUMMARY_MISMATCH', 'summary.chainName'))
    assert.throws(parse(edited(file, (f) => (f.summary.chainName = 7))), isErr('SUMMARY_MISMATCH', 'summary.chainName'))
  })

  test('a chain name is a label: a builder that did not know it (null) is accepted; the parsed summary uses ours', () => {
    const file = buildUnsignedTx(DEV0, fields) // no names given: chainName null
    assert.equal(file.summary.chainName, null)
    assert.equal(parseUnsignedTx(serializeTxFile(file), { chainNames }).summary.chainName, 'Catena dev')
    // A name for a chain the reader does not know is kept as a label, unless it is a known chain's name.
    const named = buildUnsignedTx(DEV0, fields, { chainNames: new Map([[1337n, 'my devnet']]) })
    assert.equal(parseUnsignedTx(serializeTxFile(named)).summary.chainName, null)
    assert.throws(() => parseUnsignedTx(edited(named, (f) => (f.summary.chainName = 'Ethereum Mainnet'))), isErr('SUMMARY_MISMATCH', 'summary.chainName'))
  })

  test('buildUnsignedTx refuses bad values, naming the field', () => {
    assert.throws(() => buildUnsignedTx(DEV0, { ...fields, gasLimit: 20999n }), isErr('INVALID_FIELD', 'tx.gasLimit'))
    assert.throws(() => buildUnsignedTx(DEV0, { ...fields, value: -1n }), isErr('INVALID_FIELD', 'tx.value'))
    assert.throws(() => buildUnsignedTx(DEV0, { ...fields, maxPriorityFeePerGas: 3_000_000_000n }), isErr('INVALID_FIELD', 'tx.maxPriorityFeePerGas'))
    assert.throws(() => buildUnsignedTx('0x12', fields), isErr('INVALID_FIELD', 'from'))
  })
})

describe('signing and signed files', () => {
  const unsigned = () => parseUnsignedTx(buildUnsignedTx(DEV0, fields, { chainNames }), { chainNames })

  test('the signature is by `from`, over exactly the file fields; other tools decode the same tx', async () => {
    const signed = signUnsignedTx(unsigned(), k0!.privateKey, { chainNames })
    assert.equal(signed.format, 'catena-signed-tx')
    assert.equal(signed.from, DEV0)
    assert.match(signed.hash, /^0x[0-9a-f]{64}$/)
    assert.match(signed.raw, /^0x02/)

    // viem: an independent decoder and signature recovery.
    const tx = parseTransaction(signed.raw as `0x${string}`)
    assert.equal(tx.type, 'eip1559')
    assert.equal(tx.chainId, 1337)
    assert.equal(tx.nonce, 7)
    assert.equal(tx.to, DEV1.toLowerCase())
    assert.equal(tx.value, fields.value)
    assert.equal(tx.gas, 21000n)
    assert.equal(tx.maxFeePerGas, fields.maxFeePerGas)
    assert.equal(tx.maxPriorityFeePerGas, fields.maxPriorityFeePerGas)
    const signer = await recoverTransactionAddress({ serializedTransaction: signed.raw as `0x02${string}` })
    assert.equal(signer, DEV0)

    const parsed = parseSignedTx(serializeTxFile(signed), { chainNames })
    assert.equal(parsed.from, DEV0)
    assert.equal(parsed.hash, signed.hash)
    assert.deepEqual(parsed.fields, fields)
    assert.deepEqual(parsed.file, signed)
    assert.equal(signed.summary.value, '1.5 ETH (1500000000000000000 wei)')
  })

  test('signing is deterministic (RFC 6979) and a contract creation (to: null) works too', () => {
    const a = signUnsignedTx(unsigned(), k0!.privateKey)
    const b = signUnsignedTx(unsigned(), k0!.privateKey)
    assert.equal(a.raw, b.raw)
    const create = parseUnsignedTx(buildUnsignedTx(DEV0, { ...fields, to: null, data: '0x6000', gasLimit: 60000n }))
    const signed = signUnsignedTx(create, k0!.privateKey)
    const tx = parseTransaction(signed.raw as `0x${string}`)
    assert.equal(tx.to, undefined)
    assert.equal(tx.data, '0x6000')
    assert.equal(parseSignedTx(signed).fields.to, null)
  })

  test('a key that is not the from address is refused before signing', () => {
    assert.throws(
      () => signUnsignedTx(unsigned(), k1!.privateKey),
      isErr('KEY_MISMATCH', 'from', new RegExp(`the key is for ${DEV1} but the transaction is from ${DEV0}`)),
    )
  })

  test('tampered signed files: the field that disagrees is named', () => {
    const signed = signUnsignedTx(unsigned(), k0!.privateKey, { chainNames })
    const other = signUnsignedTx(parseUnsignedTx(buildUnsignedTx(DEV0, { ...fields, value: 1n })), k0!.privateKey)
    const byDev1 = signUnsignedTx(parseUnsignedTx(buildUnsignedTx(DEV1, fields)), k1!.privateKey)
    const parse = (text: string) => () => parseSignedTx(text, { chainNames })
    assert.throws(parse(edited(signed, (f) => (f.format = 'catena-unsigned-tx'))), isErr('WRONG_FILE_KIND', 'format', /this is an unsigned transaction file/))
    assert.throws(() => parseUnsignedTx(serializeTxFile(signed)), isErr('WRONG_FILE_KIND', 'format'))
    assert.throws(parse(edited(signed, (f) => delete f.raw)), isErr('MALFORMED_FILE', 'raw', /raw is missing/))
    assert.throws(parse(edited(signed, (f) => (f.raw = '0xzz'))), isErr('INVALID_RAW', 'raw'))
    assert.throws(parse(edited(signed, (f) => (f.raw = `0x01${f.raw.slice(4)}`))), isErr('INVALID_RAW', 'raw', /not an EIP-1559/))
    assert.throws(parse(edited(signed, (f) => (f.raw = f.raw.slice(0, -4)))), isErr('INVALID_RAW', 'raw'))
    // A raw tx for another value, with the file's fields and summary left as they were.
    assert.throws(parse(edited(signed, (f) => (f.raw = other.raw))), isErr('RAW_MISMATCH', 'tx.value', /the signed raw transaction has 0x1/))
    assert.throws(parse(edited(signed, (f) => (f.hash = `0x${'0'.repeat(64)}`))), isErr('HASH_MISMATCH', 'hash'))
    assert.throws(parse(edited(signed, (f) => (f.hash = 'abc'))), isErr('INVALID_FIELD', 'hash'))
    // Same fields signed by another key: the file claims DEV0.
    assert.throws(parse(edited(signed, (f) => ((f.raw = byDev1.raw), (f.hash = byDev1.hash)))), isErr('SENDER_MISMATCH', 'from', new RegExp(`signature is by ${DEV1}`)))
    assert.throws(parse(edited(signed, (f) => (f.tx.nonce = '0x8'))), isErr('SUMMARY_MISMATCH', 'summary.nonce'))
    assert.throws(
      parse(edited(signed, (f) => ((f.tx.nonce = '0x8'), (f.summary.nonce = '8')))),
      isErr('RAW_MISMATCH', 'tx.nonce', /tx.nonce is 0x8 but the signed raw transaction has 0x7/),
    )
  })

  test('a signature with s flipped to the high half (malleated) is refused', () => {
    const signed = signUnsignedTx(unsigned(), k0!.privateKey, { chainNames })
    const tx = parseTransaction(signed.raw as `0x${string}`)
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const highS = `0x${(n - BigInt(tx.s!)).toString(16).padStart(64, '0')}` as `0x${string}`
    const raw = serializeTransaction({ ...tx, type: 'eip1559' } as TransactionSerializableEIP1559, {
      r: tx.r!,
      s: highS,
      yParity: tx.yParity === 0 ? 1 : 0,
    })
    assert.throws(() => parseSignedTx(edited(signed, (f) => (f.raw = raw)), { chainNames }), isErr('INVALID_RAW', 'raw'))
  })
})
