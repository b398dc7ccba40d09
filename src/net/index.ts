/**
 * Catena's network layer: a libp2p host (TCP, Noise, Yamux, identify, gossipsub) with the
 * status handshake, request/response protocols, gossip topics, peer scoring and bans, and a
 * connection gater with an optional allowlist. node/ builds it with createNetwork; sync and
 * light-client code register request handlers and gossip validators on it.
 * @module
 */
import './polyfill.ts'

export { createNetwork, Network, parsePeerId, USER_AGENT } from './network.ts'
export type { NetworkEvents, NetworkOptions, PeerInfo } from './network.ts'
export { DEFAULT_LIMITS, resolveLimits } from './limits.ts'
export type { NetworkLimits, NetworkLimitsInput } from './limits.ts'
export { NetError, PENALTY, isNetError } from './errors.ts'
export type { NetErrorCode } from './errors.ts'
export { RemoteError, invalidRequest, resourceUnavailable } from './reqresp.ts'
export type { RequestHandler, RequestOptions } from './reqresp.ts'
export type { GossipValidator, GossipVerdict } from './gossip.ts'
export type { BanEntry, PenaltyOutcome } from './peers.ts'
export { RESPONSE_STATUS } from './codec.ts'
export type { ResponseStatus } from './codec.ts'
export { chainMismatch, decodeStatus, encodeStatus } from './status.ts'
export type { ChainStatus } from './status.ts'
export {
  DEFAULT_REQRESP_LIMITS,
  DEFAULT_TOPIC_LIMITS,
  GOSSIP_INLINE_BYTES,
  GOSSIP_TOPICS,
  REQRESP_PROTOCOLS,
  chainTag,
  protocolId,
  topicId,
} from './protocols.ts'
export type { GossipTopic, ReqRespLimits, ReqRespProtocol, ServedProtocol } from './protocols.ts'
export { NODE_KEY_FILE, loadOrCreateNodeKey } from './node-key.ts'
export { ValidatorIdentities, MAX_IDENTITIES, MAX_PEERS_PER_VALIDATOR } from './validator-identity.ts'
export type { ValidatorIdentitiesOptions } from './validator-identity.ts'
export { IdentityClaimError, claimSignBytes, signIdentityClaim, verifyIdentityClaim } from './identity-claim.ts'
export type { ClaimContext, IdentityClaimErrorCode } from './identity-claim.ts'
