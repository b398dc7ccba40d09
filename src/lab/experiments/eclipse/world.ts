/**
 * The world around the eclipse victim: honest nodes on diverse addresses that come and go,
 * and a Sybil attacker with unlimited peer ids on a fixed set of addresses (Heilman et al.
 * 2015: a botnet with addresses in many /16 groups, or an "infrastructure" attacker holding
 * many addresses in a few groups). Only the victim runs Catena's decision code (victim.ts);
 * the others are modelled by what the victim sees of them: whether they are online, whether
 * they accept its dials, and what they answer to peer exchange.
 * @module
 */
import { EventQueue } from '../../sim/event-queue.ts'
import type { Prng } from '../../sim/prng.ts'

export interface Remote {
  id: string
  ip: string
  /** Its listen address (what the victim stores and dials). */
  addr: string
  attacker: boolean
}

export interface AttackerSpec {
  name: string
  /** Address groups (/16s) the attacker holds addresses in, and addresses per group. */
  groups: number
  ipsPerGroup: number
}

export interface WorldParams {
  honestNodes: number
  /** Mean online and offline spells of an honest node, ms (exponential). */
  onlineMeanMs: number
  offlineMeanMs: number
  /** Chance that an online honest node accepts the victim's dial (its own slots may be full). */
  honestAcceptProb: number
  /** Peers in a peer-exchange answer (discovery.ts MAX_SHARED_PEERS). */
  sharedPeers: number
}

/** A routable IPv4 address: first octet 11..223 except the private, CGNAT and link-local ranges. */
function randomPublicIp(prng: Prng): string {
  for (;;) {
    const a = prng.int(11, 223)
    const b = prng.int(0, 255)
    if (a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) continue
    return `${a}.${b}.${prng.int(0, 255)}.${prng.int(1, 254)}`
  }
}

const addrOf = (ip: string) => `/ip4/${ip}/tcp/30333`

export class World {
  readonly honest: Remote[] = []
  private readonly online: boolean[] = []
  private readonly toggles = new EventQueue<number>()
  private readonly attackerIps: string[] = []
  private nextAttacker = 0
  /** The first honest node: the victim's bootnode. `bootnodeUp` false takes it off the network. */
  bootnodeUp = true

  constructor(
    private readonly prng: Prng,
    private readonly params: WorldParams,
    attacker: AttackerSpec,
  ) {
    const used = new Set<string>()
    for (let i = 0; i < params.honestNodes; i++) {
      let ip = randomPublicIp(prng)
      while (used.has(ip)) ip = randomPublicIp(prng)
      used.add(ip)
      this.honest.push({ id: `H${i}`, ip, addr: addrOf(ip), attacker: false })
      // Start in the stationary state, then alternate exponential spells.
      const pOn = params.onlineMeanMs / (params.onlineMeanMs + params.offlineMeanMs)
      const on = i === 0 || prng.chance(pOn)
      this.online.push(on)
      this.toggles.push(this.spell(on), i)
    }
    // The attacker's groups are /16s no honest node uses in this world (it rents its own blocks).
    const honestGroups = new Set(this.honest.map((h) => h.ip.split('.').slice(0, 2).join('.')))
    const groups: string[] = []
    while (groups.length < attacker.groups) {
      const g = randomPublicIp(prng).split('.').slice(0, 2).join('.')
      if (!honestGroups.has(g) && !groups.includes(g)) groups.push(g)
    }
    for (const g of groups) {
      for (let i = 0; i < attacker.ipsPerGroup; i++) this.attackerIps.push(`${g}.${(i >> 8) & 255}.${i & 255}`)
    }
  }

  private spell(on: boolean): number {
    const mean = on ? this.params.onlineMeanMs : this.params.offlineMeanMs
    return -Math.log(1 - this.prng.next()) * mean
  }

  /** Applies the online/offline changes up to `now`; returns the honest nodes that went offline. */
  advance(now: number): Remote[] {
    const gone: Remote[] = []
    for (;;) {
      const next = this.toggles.pop()
      if (next === undefined) break
      if (next.at > now) {
        this.toggles.push(next.at, next.item)
        break
      }
      const i = next.item
      this.online[i] = !this.online[i]
      if (!this.online[i]) gone.push(this.honest[i]!)
      this.toggles.push(next.at + this.spell(this.online[i]!), i)
    }
    return gone
  }

  isOnline(r: Remote): boolean {
    if (r.attacker) return true
    const i = Number(r.id.slice(1))
    return this.online[i]! && (i !== 0 || this.bootnodeUp)
  }

  /** Whether a dial from the victim succeeds (the attacker takes every connection it can get). */
  acceptsDial(r: Remote): boolean {
    return this.isOnline(r) && (r.attacker || this.prng.chance(this.params.honestAcceptProb))
  }

  randomOnlineHonest(): Remote | undefined {
    for (let tries = 0; tries < 50; tries++) {
      const r = this.honest[this.prng.int(1, this.honest.length - 1)]!
      if (this.isOnline(r)) return r
    }
    return undefined
  }

  /** A fresh attacker identity on one of its addresses (the victim's per-IP cap is its problem). */
  newAttackerIdentity(ipOk: (ip: string) => boolean = () => true): Remote {
    let ip = this.attackerIps[this.prng.int(0, this.attackerIps.length - 1)]!
    for (let tries = 0; tries < 20 && !ipOk(ip); tries++) ip = this.attackerIps[this.prng.int(0, this.attackerIps.length - 1)]!
    return { id: `A${this.nextAttacker++}`, ip, addr: addrOf(ip), attacker: true }
  }

  /** A peer-exchange answer: honest nodes share online honest peers, the attacker only its own identities. */
  answer(from: Remote): Remote[] {
    const out: Remote[] = []
    if (from.attacker) {
      for (let i = 0; i < this.params.sharedPeers; i++) out.push(this.newAttackerIdentity())
      return out
    }
    for (let i = 0; i < this.params.sharedPeers; i++) {
      const r = this.randomOnlineHonest()
      if (r !== undefined && !out.includes(r)) out.push(r)
    }
    return out
  }
}
