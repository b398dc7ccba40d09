/**
 * A validator identity claim: a validator's statement "the libp2p peer <id> on the chain
 * <chain id, genesis> is run by the validator <address>", signed with the validator's key.
 * A node that forwards txs to the coming leaders (PoH) sends them only to peers that proved
 * this way which validator they are (validator-identity.ts asks for it).
 *
 * What the validator signs is keccak-256 of a domain-separated RLP list, in the style of the
 * consensus messages (consensus/bft/messages.ts, consensus/poh/vote-messages.ts):
 *
 *   Sign bytes: RLP([tag, chainId, genesisHash, peerId, address])
 *   Wire form:  RLP([address, signature])   (signature: 65 bytes r || s || recovery id)
 *
 * The tag keeps the signature from verifying as a vote, a block or an Ethereum tx. The peer id
 * is the one the verifier authenticated itself (Noise ties the connection to the peer id's
 * key), never one the claim names: a claim copied from the validator's real node is for that
 * node's peer id and does not verify for any other, so a peer cannot pose as a validator by
 * replaying what it heard. The chain id and genesis hash keep a claim to its chain. No nonce
 * or time is needed: what a claim says stays true as long as the validator runs that node key.
 * Low-s only (one claim, one encoding); the signer is recovered and must be the address.
 * @module
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes } from '@ethereumjs/util'
import { keccak256 } from '../crypto/hash.ts'
import { privateKeyToAddress, publicKeyToAddress, recoverPublicKey, signDigest } from '../crypto/secp256k1.ts'

const TAG = new TextEncoder().encode('catena/net/validator-identity/v1')
const ADDRESS_BYTES = 20
const SIGNATURE_BYTES = 65
/** secp256k1 group order / 2: a signature with s above it is the malleated twin of a valid one. */
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

export type IdentityClaimErrorCode = 'MALFORMED' | 'FORGED'

/** A claim that does not decode (MALFORMED) or does not verify for this peer and chain (FORGED). */
export class IdentityClaimError extends Error {
  constructor(
    readonly code: IdentityClaimErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'IdentityClaimError'
  }
}

/** What a claim is bound to: the chain, and the peer id of the node that makes it. */
export interface ClaimContext {
  chainId: bigint
  genesisHash: Uint8Array
  /** The peer id string (base58btc), as libp2p authenticated it. */
  peerId: string
}

/** The bytes a validator signs (before hashing). */
export function claimSignBytes(ctx: ClaimContext, address: Uint8Array): Uint8Array {
  return RLP.encode([TAG, bigIntToUnpaddedBytes(ctx.chainId), ctx.genesisHash, new TextEncoder().encode(ctx.peerId), address])
}

/** The claim a validator with `privateKey` answers with, for its own peer id. */
export function signIdentityClaim(privateKey: Uint8Array, ctx: ClaimContext): Uint8Array {
  const address = privateKeyToAddress(privateKey)
  const sig = signDigest(keccak256(claimSignBytes(ctx, address)), privateKey)
  const signature = new Uint8Array(SIGNATURE_BYTES)
  signature.set(sig.r, 0)
  signature.set(sig.s, 32)
  signature[64] = sig.recovery
  return RLP.encode([address, signature])
}

/**
 * The validator address a peer proved with `bytes`, its answer; IdentityClaimError otherwise.
 * Cheapest first: shape, then the one signature recovery.
 */
export function verifyIdentityClaim(bytes: Uint8Array, ctx: ClaimContext): Uint8Array {
  let fields: unknown
  try {
    fields = RLP.decode(bytes)
  } catch (err) {
    throw new IdentityClaimError('MALFORMED', `identity claim is not RLP (${(err as Error).message})`)
  }
  if (!Array.isArray(fields) || fields.length !== 2) throw new IdentityClaimError('MALFORMED', 'identity claim must be RLP [address, signature]')
  const [address, signature] = fields as unknown[]
  if (!(address instanceof Uint8Array) || address.length !== ADDRESS_BYTES) throw new IdentityClaimError('MALFORMED', `identity claim address must be ${ADDRESS_BYTES} bytes`)
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) {
    throw new IdentityClaimError('MALFORMED', `identity claim signature must be ${SIGNATURE_BYTES} bytes`)
  }
  const s = signature.subarray(32, 64)
  if (BigInt('0x' + Buffer.from(s).toString('hex')) > HALF_N) throw new IdentityClaimError('FORGED', 'identity claim signature is not low-s')
  let signer: Uint8Array
  try {
    const digest = keccak256(claimSignBytes(ctx, address))
    signer = publicKeyToAddress(recoverPublicKey(digest, signature.slice(0, 32), signature.slice(32, 64), signature[64]!))
  } catch (err) {
    throw new IdentityClaimError('FORGED', `identity claim signature does not recover: ${(err as Error).message}`)
  }
  if (!Buffer.from(signer).equals(Buffer.from(address))) {
    throw new IdentityClaimError('FORGED', 'identity claim is not signed by the address it names, for this peer and chain')
  }
  return new Uint8Array(address)
}
