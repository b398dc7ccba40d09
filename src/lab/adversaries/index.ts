/**
 * Adversaries for the lab and the tests: peers that attack a running network through its
 * real protocols (the same libp2p stack, chain tag and handshake as a node).
 * @module
 */
export { ATTACKS, HostilePeer, LIE_HEIGHT } from './hostile-peer.ts'
export type { AttackName, AttackReport, HostilePeerOptions, SentItem } from './hostile-peer.ts'
export type { RangeAnswer, ServedRequest } from './range-server.ts'
export { ShadowChain } from './shadow-chain.ts'
export { consensusJunk, forgeOnHead, forgedProofs } from './bft-forgery.ts'
