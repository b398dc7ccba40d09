/**
 * The dev engine's seal and header rules. A dev chain whose spec names a `signer` carries, as
 * each block's seal, that producer's secp256k1 signature: 65 bytes r ‖ s ‖ recovery (0 or 1),
 * low-s, over the hash of the header with an empty seal (`devSigningHash`: the digest PoW's
 * sealHash commits to, SHA-256d of the RLP header). Anyone holding only the chain spec (a
 * follower, a light client) then checks who made a block from its header alone. Without a
 * signer, dev blocks carry no seal and any producer goes (a chain nobody else follows).
 *
 * The rules are a plain object usable without a running engine: block import, headers-first
 * sync and the light client apply exactly the same ones.
 * @module
 */
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { blockHash, type BlockHeader } from '../chain/block.ts'
import { BlockError } from '../chain/errors.ts'
import type { BlockRules } from '../chain/rules.ts'
import type { DevEngineSpec } from '../chain/spec/index.ts'
import { privateKeyToAddress, signDigest } from '../crypto/secp256k1.ts'
import { recoverSigner } from './bft/messages.ts'

/**
 * The private key of test account #0 of the test mnemonic ("test test ... junk",
 * m/44'/60'/0'/0/0), the `dev` preset's signer. PUBLIC, like Hardhat's and Anvil's accounts:
 * anyone can sign blocks with it. `catena node` signs with it by default when a chain's signer
 * is its address; a chain whose producer must be trusted names another signer and passes that
 * key with --validator-key-file. A unit test re-derives it from the mnemonic.
 */
export const DEV_SIGNER_KEY: Uint8Array = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')

/** r ‖ s ‖ recovery. */
export const DEV_SEAL_LENGTH = 65

const EMPTY = new Uint8Array(0)

/** What the signer signs: the hash of the header with an empty seal, so it commits to every other field. */
export function devSigningHash(header: BlockHeader): Uint8Array {
  return blockHash({ ...header, seal: EMPTY })
}

/** The header with its seal: `privateKey`'s signature over devSigningHash (deterministic, RFC 6979). */
export function signDevHeader(header: BlockHeader, privateKey: Uint8Array): BlockHeader {
  const sig = signDigest(devSigningHash(header), privateKey)
  const seal = new Uint8Array(DEV_SEAL_LENGTH)
  seal.set(sig.r, 0)
  seal.set(sig.s, 32)
  seal[64] = sig.recovery
  return { ...header, seal }
}

/** The address that signed a dev header; BlockError('BAD_SEAL') when its seal is no valid signature. */
export function devSealSigner(header: BlockHeader): Uint8Array {
  if (header.seal.length !== DEV_SEAL_LENGTH) {
    throw new BlockError('BAD_SEAL', `dev block ${header.height} must be signed by the chain's producer: its seal is ${header.seal.length} bytes, not a ${DEV_SEAL_LENGTH}-byte signature (r ‖ s ‖ recovery)`)
  }
  try {
    return recoverSigner(devSigningHash(header), header.seal)
  } catch (err) {
    throw new BlockError('BAD_SEAL', `dev block ${header.height}: ${(err as Error).message}`)
  }
}

/**
 * The dev engine's header rules for its spec. With a signer: the seal must be the signer's
 * signature, checked from the header alone (so `withHeaders` gives the same check to
 * headers-first sync and light clients). Without: the seal must be empty. Every block is final
 * at once (one producer) and timestamps may run ahead of the clock (evm_increaseTime).
 */
export function devRules(spec: Pick<DevEngineSpec, 'signer'>): BlockRules {
  const signer = spec.signer
  if (!signer) {
    return {
      verifyHeader(header: BlockHeader): void {
        if (header.seal.length !== 0) throw new BlockError('BAD_SEAL', `dev blocks carry no seal (got ${bytesToHex(header.seal)})`)
      },
    }
  }
  const expected = Uint8Array.from(signer)
  const signed = {
    verifyHeader(header: BlockHeader): void {
      const by = devSealSigner(header)
      if (!equalsBytes(by, expected)) {
        throw new BlockError('BAD_SEAL', `dev block ${header.height} is signed by ${bytesToHex(by)}, not by the chain's producer ${bytesToHex(expected)} (engine.signer)`)
      }
    },
  }
  return { ...signed, withHeaders: () => signed }
}

/**
 * The key a dev node signs its blocks with: none when the chain names no signer; else `given`
 * (from --validator-key-file) if it is the signer's, or the public dev key when the signer is
 * its address. Throws an error saying what to pass otherwise.
 */
export function devSigningKey(spec: Pick<DevEngineSpec, 'signer'>, given: Uint8Array | undefined): Uint8Array | undefined {
  const signer = spec.signer
  if (!signer) return undefined
  if (given) {
    const address = privateKeyToAddress(given)
    if (!equalsBytes(address, signer)) {
      throw new Error(`the validator key is for ${bytesToHex(address)}, but this dev chain's blocks must be signed by ${bytesToHex(signer)} (engine.signer in the chain spec)`)
    }
    return given
  }
  if (equalsBytes(privateKeyToAddress(DEV_SIGNER_KEY), signer)) return DEV_SIGNER_KEY
  throw new Error(`this dev chain's blocks must be signed by ${bytesToHex(signer)} (engine.signer in the chain spec): give its private key with --validator-key-file`)
}
