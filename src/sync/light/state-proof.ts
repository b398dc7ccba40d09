/**
 * EIP-1186 proofs (eth_getProof) checked against a verified header's state root: the account
 * (nonce, balance, storage root, code hash) must be what the account trie holds at the key
 * keccak256(address), or absent with the empty account's fields; each storage value what the
 * account's storage trie holds at keccak256(slot). A full node cannot make a proof for
 * another account, another value or another root pass: every node on the path is hashed
 * back to the root (@ethereumjs/mpt verifyMerkleProof).
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { verifyMerkleProof } from '@ethereumjs/mpt'
import { KECCAK256_NULL, KECCAK256_RLP, bytesToBigInt, bytesToHex, equalsBytes, hexToBytes, setLengthLeft, type PrefixedHexString } from '@ethereumjs/util'

export interface AccountProofJSON {
  address: PrefixedHexString
  balance: PrefixedHexString
  codeHash: PrefixedHexString
  nonce: PrefixedHexString
  storageHash: PrefixedHexString
  accountProof: PrefixedHexString[]
  storageProof: Array<{ key: PrefixedHexString; value: PrefixedHexString; proof: PrefixedHexString[] }>
}

export interface VerifiedAccount {
  nonce: bigint
  balance: bigint
  storageRoot: Uint8Array
  codeHash: Uint8Array
  /** Storage values by slot (0x, 32 bytes) as proven. */
  storage: Map<string, bigint>
  /** Every trie node of the proofs (each hashed back to the root): enough to run code over this state. */
  nodes: Uint8Array[]
}

export class ProofError extends Error {
  override readonly name = 'ProofError'
}

const MAX_PROOF_NODES = 64

async function proven(root: Uint8Array, key: Uint8Array, nodes: PrefixedHexString[], what: string, keep?: Uint8Array[]): Promise<Uint8Array | null> {
  // An empty trie (an account without storage) holds nothing: its proof of absence is no nodes.
  if (Array.isArray(nodes) && nodes.length === 0 && equalsBytes(root, KECCAK256_RLP)) return null
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > MAX_PROOF_NODES) throw new ProofError(`${what}: the proof has ${Array.isArray(nodes) ? nodes.length : 'no'} nodes`)
  let bytes: Uint8Array[]
  try {
    bytes = nodes.map((n) => hexToBytes(n))
  } catch {
    throw new ProofError(`${what}: a proof node is not hex`)
  }
  try {
    const value = await verifyMerkleProof(key, bytes, { root, useKeyHashing: true })
    keep?.push(...bytes)
    return value
  } catch (err) {
    throw new ProofError(`${what}: the proof does not lead to the root ${bytesToHex(root)} (${(err as Error).message})`)
  }
}

const quantity = (v: unknown, what: string): bigint => {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) throw new ProofError(`${what} is not a quantity`)
  return BigInt(v)
}

/**
 * Checks an eth_getProof answer for `address` (and the storage slots it carries) against
 * `stateRoot`. Returns the proven account; throws ProofError naming what does not match.
 */
export async function verifyAccountProof(stateRoot: Uint8Array, address: Uint8Array, p: AccountProofJSON): Promise<VerifiedAccount> {
  if (typeof p !== 'object' || p === null) throw new ProofError('the answer is not a proof')
  if (typeof p.address !== 'string' || !equalsBytes(hexToBytes(p.address), address)) throw new ProofError(`the proof is for account ${String(p.address)}, not ${bytesToHex(address)}`)
  const nodes: Uint8Array[] = []
  const value = await proven(stateRoot, address, p.accountProof, 'account proof', nodes)
  const claimed = {
    nonce: quantity(p.nonce, 'nonce'),
    balance: quantity(p.balance, 'balance'),
    storageRoot: hexToBytes(p.storageHash),
    codeHash: hexToBytes(p.codeHash),
  }
  let account: { nonce: bigint; balance: bigint; storageRoot: Uint8Array; codeHash: Uint8Array }
  if (value === null) {
    account = { nonce: 0n, balance: 0n, storageRoot: KECCAK256_RLP, codeHash: KECCAK256_NULL }
  } else {
    const f = RLP.decode(value) as Uint8Array[]
    if (!Array.isArray(f) || f.length !== 4) throw new ProofError('the proven account is not an RLP list of 4 fields')
    account = { nonce: bytesToBigInt(f[0]!), balance: bytesToBigInt(f[1]!), storageRoot: f[2]!, codeHash: f[3]! }
  }
  const mismatch = (field: string, got: unknown, want: unknown) => new ProofError(`${field} ${String(got)} does not match the proof (the state holds ${String(want)})`)
  if (claimed.nonce !== account.nonce) throw mismatch('nonce', claimed.nonce, account.nonce)
  if (claimed.balance !== account.balance) throw mismatch('balance', claimed.balance, account.balance)
  if (!equalsBytes(claimed.storageRoot, account.storageRoot)) throw mismatch('storage hash', p.storageHash, bytesToHex(account.storageRoot))
  if (!equalsBytes(claimed.codeHash, account.codeHash)) throw mismatch('code hash', p.codeHash, bytesToHex(account.codeHash))
  const storage = new Map<string, bigint>()
  for (const s of p.storageProof ?? []) {
    const slot = setLengthLeft(hexToBytes(s.key), 32)
    const raw = await proven(account.storageRoot, slot, s.proof, `storage proof of slot ${s.key}`, nodes)
    const held = raw === null ? 0n : bytesToBigInt(RLP.decode(raw) as Uint8Array)
    const said = quantity(s.value, `storage value of slot ${s.key}`)
    if (held !== said) throw new ProofError(`storage value ${said} of slot ${s.key} does not match the proof (the state holds ${held})`)
    storage.set(bytesToHex(slot), held)
  }
  return { ...account, storage, nodes }
}
