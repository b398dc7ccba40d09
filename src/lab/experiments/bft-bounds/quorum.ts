/**
 * Quorum arithmetic of Tendermint-style BFT with n equal validators (Lamport, Shostak and
 * Pease 1982; Castro and Liskov 1999; Buchman, Kwon and Milosevic 2018): a quorum is more
 * than 2/3 of the power, any two quorums share at least 2q - n validators, so two conflicting
 * commits need that many validators to vote twice. Pure functions, checked in
 * test/lab/bft-bounds-quorum.test.ts.
 * @module
 */

/** Votes needed to commit: more than 2/3 of n equal validators. */
export function quorum(n: number): number {
  return Math.floor((2 * n) / 3) + 1
}

/** Validators every two quorums have in common: 2q - n. */
export function quorumIntersection(n: number): number {
  return 2 * quorum(n) - n
}

/** Largest f the protocol tolerates: 3f + 1 <= n. */
export function tolerated(n: number): number {
  return Math.floor((n - 1) / 3)
}

/**
 * Whether f double-voting validators can make two honest groups commit different blocks:
 * each group of honest validators plus the f must reach a quorum, so the n - f honest ones
 * must split into two groups of at least q - f each (n - f >= 2(q - f), i.e. f >= 2q - n),
 * and there must be two honest validators to disagree.
 */
export function attackCanFork(n: number, f: number): boolean {
  return f >= quorumIntersection(n) && n - f >= 2
}

/** Whether the n - f validators left when f crash still make a quorum. */
export function liveUnderCrash(n: number, f: number): boolean {
  return n - f >= quorum(n)
}

/**
 * The adversary's partition: honest validators in two halves as even as possible (the split
 * that gives the smaller side the most votes: both sides need q - f), the byzantine ones in
 * both groups so they reach everybody.
 */
export function attackSplit(honest: readonly number[], byzantine: readonly number[]): { sides: [number[], number[]]; groups: number[][] } {
  const half = Math.ceil(honest.length / 2)
  const a = honest.slice(0, half)
  const b = honest.slice(half)
  return { sides: [a, b], groups: [[...a, ...byzantine], [...b, ...byzantine]] }
}
