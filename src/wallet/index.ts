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
// Offline signing and mnemonic handling (catena wallet / catena tx).
export {
  MNEMONIC_WORD_COUNTS,
  MnemonicError,
  checkConfirmation,
  formatMnemonicForDisplay,
  generateMnemonic,
  mnemonicWords,
  pickConfirmationPositions,
  suggestWords,
  validateMnemonicPhrase,
} from './mnemonic-confirm.ts'
export type { MnemonicErrorCode, MnemonicWordCount } from './mnemonic-confirm.ts'
export {
  KNOWN_CHAINS,
  MIN_GAS_LIMIT,
  OFFLINE_TX_VERSION,
  OfflineTxError,
  SIGNED_TX_FORMAT,
  UNSIGNED_TX_FORMAT,
  buildUnsignedTx,
  chainNameOf,
  checkFields,
  fieldsToJSON,
  formatSummary,
  parseSignedTx,
  parseUnsignedTx,
  serializeTxFile,
  signUnsignedTx,
  summarizeTx,
} from './offline-tx.ts'
export type {
  OfflineTxErrorCode,
  OfflineTxFields,
  OfflineTxOptions,
  ParsedSignedTx,
  ParsedUnsignedTx,
  SignedTxFile,
  TxFieldsJSON,
  TxSummary,
  UnsignedTxFile,
} from './offline-tx.ts'
