/**
 * Catena's network layer: a libp2p host (TCP, Noise, Yamux, identify, gossipsub) with the
 * status handshake, request/response protocols, gossip topics, peer scoring and bans, and a
 * connection gater with an optional allowlist. node/ builds it with createNetwork; sync and
 * light-client code register request handlers and gossip validators on it.
 * @module
 */
import './polyfill.ts'

export { CONNECTION_HEADROOM, createNetwork, Network, parsePeerId, USER_AGENT } from './network.ts'
export type { NetworkEvents, NetworkOptions, PeerInfo } from './network.ts'
export { DEFAULT_LIMITS, LEGACY_PEER_LIMITS, resolveLimits } from './limits.ts'
export type { NetworkLimits, NetworkLimitsInput } from './limits.ts'
export { NetError, PENALTY, isNetError } from './errors.ts'
export type { NetErrorCode } from './errors.ts'
export { RemoteError, invalidRequest, resourceUnavailable } from './reqresp.ts'
export type { RequestHandler, RequestOptions } from './reqresp.ts'
export type { GossipValidator, GossipVerdict } from './gossip.ts'
export { PeerScores } from './peers.ts'
export type { BanEntry, PenaltyOutcome, ScoreConfig } from './peers.ts'
// Peer-management decisions as pure functions (the node calls them; so does `catena lab eclipse`).
export { admitInbound, keyedGroupOrder, legacyAdmission, selectEviction, EVICTION_PROTECT_BY_GROUP } from './conn-policy.ts'
export type { AdmissionLimits, ConnView, GroupKey, InboundVerdict } from './conn-policy.ts'
export { chooseDials, countGroups, dialsWanted } from './dial-policy.ts'
export type { ChooseContext, DialCandidate, WantedInput } from './dial-policy.ts'
export { PeerTable } from './peer-table.ts'
export type { PeerTableOptions, TableEntry } from './peer-table.ts'
export { netGroup } from './netgroup.ts'
export { ANCHORS_FILE, chooseAnchors } from './anchors.ts'
export { knownPeerBackoffMs } from './dialer.ts'
export { storedPeerGroup } from './peer-store.ts'
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
