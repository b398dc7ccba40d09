/**
 * One eclipse run, after Heilman et al. 2015: the victim joins through its bootnode and fills
 * its peer slots from the honest network; then the attacker occupies every inbound slot it can
 * get, keeps rotating fresh identities through them so the victim's peer store fills with its
 * addresses, answers peer exchange with its own addresses only, and finally forces a restart
 * (the paper's attacker waits for one or causes it) and connects the moment the victim is
 * back. The victim's bootnode is off the network from the start of the attack (bootnodes are a
 * handful of machines; an attacker can take them down too). A pure function of its seed.
 * @module
 */
import type { GroupKey, NetworkLimits } from '../../../net/index.ts'
import { Prng } from '../../sim/prng.ts'
import { Victim } from './victim.ts'
import { World, type AttackerSpec, type WorldParams } from './world.ts'

export interface Scenario {
  /** The dialer's interval (limits.redialMs): the simulation's step. */
  tickMs: number
  warmupMs: number
  attackMs: number
  downtimeMs: number
  observeMs: number
  sampleMs: number
  /** Honest nodes dialing the victim, per minute. */
  honestInboundPerMin: number
  /** Inbound attempts the attacker makes per tick (it stops at the first refusal), and connections it rotates before the restart. */
  attackAttemptsPerTick: number
  attackRotatePerTick: number
  /** Mean time until an attacker connection sends invalid data and is banned (undefined: it never does). */
  misbehaveMeanMs?: number
  world: WorldParams
}

export const SCENARIO: Readonly<Scenario> = {
  tickMs: 5_000,
  warmupMs: 2 * 3600_000,
  attackMs: 4 * 3600_000,
  downtimeMs: 60_000,
  observeMs: 3600_000,
  sampleMs: 60_000,
  honestInboundPerMin: 1,
  attackAttemptsPerTick: 5,
  attackRotatePerTick: 1,
  world: { honestNodes: 1000, onlineMeanMs: 10 * 3600_000, offlineMeanMs: 2 * 3600_000, honestAcceptProb: 0.8, sharedPeers: 16 },
}

export interface RunResult {
  /** Attacker's share of the victim's connections at each sample (every sampleMs from 0). */
  share: number[]
  eclipsed: boolean[]
  eclipsedBeforeRestart: boolean
  eclipsedAtEnd: boolean
  /** Share of the samples after the restart at which the victim was eclipsed. */
  eclipsedAfterRestart: number
  /** The victim's connections at the end: [attacker inbound, honest inbound, attacker outbound, honest outbound]. */
  final: [number, number, number, number]
  /** Entries of the victim's peer store that are the attacker's, just before the restart. */
  storeAttackerShare: number
}

function poisson(prng: Prng, mean: number): number {
  const l = Math.exp(-mean)
  let k = 0
  let p = prng.next()
  while (p > l) {
    k++
    p *= prng.next()
  }
  return k
}

export function runEclipse(limits: NetworkLimits, attacker: AttackerSpec, sc: Scenario, seed: number): RunResult {
  const prng = new Prng(seed)
  const world = new World(prng, sc.world, attacker)
  const clock = { now: 0 }
  // The node's secret group order (a random key per process); here from the run's seed.
  const secret = prng.nextU32()
  const groupKey: GroupKey = (g) => {
    let h = secret ^ 0x811c9dc5
    for (let i = 0; i < g.length; i++) h = Math.imul(h ^ g.charCodeAt(i), 0x01000193) >>> 0
    return h >>> 0
  }
  const victim = new Victim(limits, world, clock, groupKey, world.honest[0]!)
  const attackAt = sc.warmupMs
  const restartAt = attackAt + sc.attackMs
  const upAt = restartAt + sc.downtimeMs
  const end = upAt + sc.observeMs
  const out: RunResult = { share: [], eclipsed: [], eclipsedBeforeRestart: false, eclipsedAtEnd: false, eclipsedAfterRestart: 0, final: [0, 0, 0, 0], storeAttackerShare: 0 }
  const perIp = (ip: string) => victim.conns.filter((c) => c.ip === ip).length < limits.maxConnectionsPerIp
  const flood = (attempts: number) => {
    for (let k = 0; k < attempts; k++) if (!victim.inbound(world.newAttackerIdentity(perIp))) break
  }
  let anchors: ReturnType<Victim['stop']> = []
  let after = 0
  let afterEclipsed = 0
  victim.listen()
  victim.startDialing([])
  for (let t = sc.tickMs; t <= end; t += sc.tickMs) {
    clock.now = t
    victim.dropOffline(world.advance(t))
    if (t === attackAt) world.bootnodeUp = false
    if (t === restartAt) {
      out.eclipsedBeforeRestart = victim.eclipsed()
      const entries = victim.table.list()
      out.storeAttackerShare = entries.length === 0 ? 0 : entries.filter((e) => e.peerId.startsWith('A')).length / entries.length
      anchors = victim.stop()
    }
    if (t === upAt) {
      victim.listen()
      // The attacker forced the restart and is waiting: it connects first.
      flood(limits.maxPeers + 8)
      victim.startDialing(anchors)
    }
    if (victim.up) {
      // Honest arrivals and the attacker's attempts interleave at random within the tick.
      const events: ('honest' | 'attack')[] = []
      for (let n = poisson(prng, (sc.honestInboundPerMin * sc.tickMs) / 60_000); n > 0; n--) events.push('honest')
      if (t >= attackAt) {
        if (sc.misbehaveMeanMs !== undefined) {
          for (const c of victim.conns.filter((c) => c.remote.attacker)) if (prng.chance(sc.tickMs / sc.misbehaveMeanMs)) victim.penalize(c.peerId, 100)
        }
        // Before the restart it rotates fresh identities through its slots (hang up, reconnect at
        // once) so their handshakes fill the victim's peer store with its addresses.
        for (let i = 0; t < restartAt && i < sc.attackRotatePerTick; i++) {
          const mine = victim.conns.filter((c) => c.remote.attacker && c.direction === 'inbound')
          if (mine.length === 0) break
          victim.close(mine[prng.int(0, mine.length - 1)]!.peerId)
          victim.inbound(world.newAttackerIdentity(perIp))
        }
        for (let i = 0; i < sc.attackAttemptsPerTick; i++) events.push('attack')
      }
      let refused = false
      for (const e of prng.shuffle(events)) {
        if (e === 'honest') {
          const r = world.randomOnlineHonest()
          if (r !== undefined) victim.inbound(r)
        } else if (!refused) {
          // The attacker stops for this tick at its first refusal.
          refused = !victim.inbound(world.newAttackerIdentity(perIp))
        }
      }
      victim.tick()
    }
    if (t % sc.sampleMs === 0) {
      const e = victim.eclipsed()
      out.share.push(victim.attackerShare())
      out.eclipsed.push(e)
      if (t > upAt) {
        after++
        if (e) afterEclipsed++
      }
    }
  }
  out.eclipsedAtEnd = victim.eclipsed()
  out.eclipsedAfterRestart = after === 0 ? 0 : afterEclipsed / after
  for (const c of victim.conns) out.final[(c.direction === 'inbound' ? 0 : 2) + (c.remote.attacker ? 0 : 1)]!++
  return out
}
