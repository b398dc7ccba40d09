/**
 * Keys for users and validators: BIP-39/BIP-32 derivation and Web3 Secret Storage v3 key files.
 */
export { DEFAULT_PATH_PREFIX, TEST_MNEMONIC, deriveKeys } from './hd.ts'
export type { DerivedKey } from './hd.ts'
export {
  DEFAULT_PBKDF2_ITERATIONS,
  KeystoreError,
  LIGHT_SCRYPT,
  STANDARD_SCRYPT,
  decryptKeystore,
  encryptKeystore,
  listKeystores,
  writeKeystoreFile,
} from './keystore.ts'
export type {
  EncryptKeystoreOptions,
  KeystoreErrorCode,
  KeystoreFileInfo,
  KeystoreKdf,
  KeystoreV3,
  Password,
  Pbkdf2KdfParams,
  ScryptKdfParams,
} from './keystore.ts'
