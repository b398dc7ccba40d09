/**
 * BIP-39 mnemonics and BIP-32/BIP-44 key derivation for Ethereum-style accounts
 * (m/44'/60'/0'/0/i), on the audited @scure libraries.
 */
import { HDKey } from '@scure/bip32'
import { entropyToMnemonic, mnemonicToEntropy, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'

export const DEFAULT_PATH_PREFIX = "m/44'/60'/0'/0"

/** The mnemonic every Ethereum dev tool (Hardhat, Anvil, Ganache -d) prefunds. */
export const TEST_MNEMONIC = 'test test test test test test test test test test test junk'

export interface DerivedKey {
  path: string
  privateKey: Uint8Array
}

export function deriveKeys(
  mnemonic: string,
  count: number,
  opts: { passphrase?: string; pathPrefix?: string; start?: number } = {},
): DerivedKey[] {
  const words = mnemonic.trim().split(/\s+/).join(' ')
  if (!validateMnemonic(words, wordlist)) throw new Error('invalid BIP-39 mnemonic (bad word or checksum)')
  const root = HDKey.fromMasterSeed(mnemonicToSeedSync(words, opts.passphrase ?? ''))
  const prefix = opts.pathPrefix ?? DEFAULT_PATH_PREFIX
  const start = opts.start ?? 0
  const keys: DerivedKey[] = []
  for (let i = start; i < start + count; i++) {
    const path = `${prefix}/${i}`
    const key = root.derive(path)
    if (!key.privateKey) throw new Error(`no private key at ${path}`)
    keys.push({ path, privateKey: key.privateKey })
  }
  return keys
}

/** BIP-39: the English mnemonic of 16-32 bytes of entropy (12-24 words). */
export function mnemonicFromEntropy(entropy: Uint8Array): string {
  return entropyToMnemonic(entropy, wordlist)
}

/** BIP-39: the entropy of a mnemonic; throws on a bad word or checksum. */
export function entropyFromMnemonic(mnemonic: string): Uint8Array {
  return mnemonicToEntropy(mnemonic.trim().split(/\s+/).join(' '), wordlist)
}

/** BIP-39: the 64-byte seed of a mnemonic with an optional passphrase (PBKDF2-HMAC-SHA512, 2048 rounds). */
export function seedFromMnemonic(mnemonic: string, passphrase = ''): Uint8Array {
  const words = mnemonic.trim().split(/\s+/).join(' ')
  if (!validateMnemonic(words, wordlist)) throw new Error('invalid BIP-39 mnemonic (bad word or checksum)')
  return mnemonicToSeedSync(words, passphrase)
}

/** BIP-32: the extended private and public keys (xprv/xpub, Bitcoin mainnet versions) at `path` under `seed`. */
export function extendedKeys(seed: Uint8Array, path: string): { xprv: string; xpub: string } {
  const key = HDKey.fromMasterSeed(seed).derive(path)
  return { xprv: key.privateExtendedKey, xpub: key.publicExtendedKey }
}
