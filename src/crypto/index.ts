/**
 * Catena's cryptography: hashes, secp256k1 signatures and recovery (native with a pure-JS
 * fallback), Ethereum addresses, and the RFC 6962 Merkle tree for tx and receipts roots.
 * Hex helpers: use `bytesToHex` / `hexToBytes` from @ethereumjs/util.
 */
export { keccak256, sha256, sha256d } from './hash.ts'
export {
  SECP256K1_BACKEND,
  SECP256K1_NATIVE_ERROR,
  Secp256k1Error,
  ethereumCustomCrypto,
  nativeSecp256k1,
  nobleSecp256k1,
  privateKeyToAddress,
  privateKeyToPublicKey,
  publicKeyToAddress,
  recoverPublicKey,
  signDigest,
} from './secp256k1.ts'
export type { RecoverableSignature, Secp256k1Backend, Secp256k1ErrorCode } from './secp256k1.ts'
export { AddressError, isValidChecksumAddress, parseAddress, toChecksumAddress } from './address.ts'
export type { AddressErrorCode } from './address.ts'
export {
  EMPTY_MERKLE_ROOT,
  MerkleError,
  hashLeaf,
  hashNode,
  merkleProof,
  merkleRoot,
  merkleRootFromLeafHashes,
  verifyMerkleProof,
  verifyMerkleProofHash,
} from './merkle.ts'
export type { MerkleErrorCode, MerkleProof } from './merkle.ts'
