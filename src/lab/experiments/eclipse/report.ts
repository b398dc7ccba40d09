/**
 * The eclipse report's text and charts: how Catena managed peers before, the method, the
 * reading of the numbers (computed from the points, so it stays true for any seed) and the
 * countermeasures now on by default.
 * @module
 */
import { CONNECTION_HEADROOM, DEFAULT_LIMITS } from '../../../net/index.ts'
import { lineSeries, type ChartSpec } from '../../charts.ts'
import type { Section } from '../../experiment.ts'
import { markdownTable } from '../../report.ts'
import { fmt } from '../../stats.ts'
import { ATTACKERS } from './configs.ts'
import type { PointResult } from './experiment.ts'
import type { Scenario } from './scenario.ts'

const h = (ms: number) => ms / 3600_000

export function eclipseSections(points: PointResult[], sc: Scenario, runs: number): Section[] {
  const at = (config: string, attacker: string) => points.find((p) => p.config === config && p.attacker === attacker)!
  const pct = (x: number) => `${Math.round(100 * x)}%`
  const b = (c: string) => at(c, 'botnet')
  const i = (c: string) => at(c, 'infrastructure')
  const ob = b('+outbound')
  const f = ob.storeAttackerShare
  const k = DEFAULT_LIMITS.outboundPeers
  return [
    {
      title: 'What Catena did before (read from src/net)',
      body: `- **Slots were shared.** libp2p's connection manager (maxConnections = maxPeers = 50) took inbound connections until 50 connections were open, then refused every new one: the oldest peers keep their slots, whoever they are. Nothing reserved a slot for a peer the node chose itself.
- **Inbound peers stopped the dialer.** The dialer and the peer exchange dialed only while the node had fewer than targetPeers = 25 peers, inbound ones included: an attacker holding 25 inbound slots stopped every dial.
- **The only address limit was per IP** (16 connections per IP, 2 per peer id): nothing per address group.
- **The peer store** (peers.json, 64 entries) took every peer that completed a handshake, inbound or outbound; a newcomer replaced the least recently seen idle entry, and after a restart peers were redialed most recently seen first. An attacker that rotates fresh identities through its inbound slots makes its own entries the most recent.
- **Peer scoring** bans a peer id for invalid data. The eclipse attacker sends nothing invalid; when it does, it loses one identity out of an unlimited supply.
- **No anchors:** a restarted node started from bootnodes and the peer store only. Bootnodes are always redialed (like Bitcoin's -addnode) and would keep one honest connection; in this scenario they are off the network during the attack.`,
    },
    {
      title: 'Method',
      body: `One victim node, ${runs} seeded runs per configuration and attacker. The victim runs Catena's own decision code on a virtual clock, over simulated connections: the gater's admission and eviction (\`src/net/conn-policy.ts\` admitInbound, selectEviction), the peer store's table (\`src/net/peer-table.ts\` with peer-store.ts's group function), the dialer's and peer exchange's choices (\`src/net/dial-policy.ts\` dialsWanted, chooseDials; the dialer's backoff \`knownPeerBackoffMs\`), anchors (\`src/net/anchors.ts\` chooseAnchors) and bans (\`src/net/peers.ts\` PeerScores). These are the functions the node calls from gater.ts, peer-store.ts, dialer.ts, discovery.ts and network.ts; each configuration is a \`resolveLimits\` input, so "all" is exactly the node's defaults. libp2p's part is modelled: its cap of maxPeers + ${CONNECTION_HEADROOM} connections and its pruner (inbound first, newest first). There is no separate fast model to cross-check: every run is the node's decision code. Where that code meets libp2p, real hosts over 127.0.0.1 check it: test/unit/net/outbound-slots.test.ts (eight attacker identities flood a victim's inbound side; its outbound-only slots still go to the honest peers it remembers), anchors.test.ts (a restarted node redials its anchor) and gater-eviction.test.ts.

The world: ${sc.world.honestNodes} honest nodes on random public IPv4 addresses, online ${h(sc.world.onlineMeanMs)} h and offline ${h(sc.world.offlineMeanMs)} h on average (exponential), accepting ${pct(sc.world.honestAcceptProb)} of the victim's dials, ${sc.honestInboundPerMin} honest node a minute dialing the victim; peer exchange answers ${sc.world.sharedPeers} online honest peers. The attacker holds 2,048 IPv4 addresses: the **botnet** in 2,048 /16 groups, the **infrastructure** attacker in ${ATTACKERS.find((a) => a.name === 'infrastructure')!.groups} (a hosting provider's blocks); peer ids are free.

The attack (after Heilman et al.), on a virtual clock of ${sc.tickMs / 1000} s ticks (the dialer's interval, redialMs):
1. 0-${h(sc.warmupMs)} h: the victim joins through its bootnode and fills its slots by peer exchange.
2. ${h(sc.warmupMs)}-${h(sc.warmupMs + sc.attackMs)} h: the bootnode goes offline; the attacker takes every inbound slot it can (${sc.attackAttemptsPerTick} attempts a tick, stopping at a refusal), rotates ${sc.attackRotatePerTick} fresh identity a tick through its slots so their handshakes fill the peer store, and answers peer exchange with its own addresses.
3. At ${h(sc.warmupMs + sc.attackMs)} h the attacker forces a restart (${sc.downtimeMs / 1000} s down) and connects the moment the victim listens again, before the victim's first dials complete.
4. The victim is observed for ${h(sc.observeMs)} h. **Eclipsed** = at least one connection and every connection is the attacker's, at the end of the run.

"before, attacker misbehaves" gives each attacker connection an invalid message after 30 min on average (100 penalty points: banned at once), to show what peer scoring does against identities that cost nothing.`,
    },
    {
      title: 'Reading the numbers',
      body: `- **Before the countermeasures the restart is fatal**: the botnet eclipses the victim in ${pct(b('before').eclipsedAtEnd.p)} of runs, the infrastructure attacker in ${pct(i('before').eclipsedAtEnd.p)}. Before the restart it is eclipsed in ${pct(b('before').eclipsedBeforeRestart.p)} of runs: its honest outbound peers from the warm-up hold on for hours. After it, the attacker's ${DEFAULT_LIMITS.maxPeers} connections arrive first, fill every shared slot, and the dialer sees more than targetPeers peers and dials nobody. Bans help little (${pct(b('before-banned').eclipsedAtEnd.p)} botnet, ${pct(i('before-banned').eclipsedAtEnd.p)} infrastructure): a banned identity's slot goes to the attacker's next identity, unless an honest newcomer happens to arrive first.
- **Address-group limits** stop the infrastructure attacker (${pct(i('+groups').eclipsedAtEnd.p)}): ${DEFAULT_LIMITS.maxInboundPerGroup} inbound connections per /16 leave it ${ATTACKERS.find((a) => a.name === 'infrastructure')!.groups * DEFAULT_LIMITS.maxInboundPerGroup} of the ${DEFAULT_LIMITS.maxPeers} slots. Against the botnet, whose every address is in its own group, they do nothing (${pct(b('+groups').eclipsedAtEnd.p)}).
- **Outbound-only slots alone** keep ${k} connections for the victim's own dials, but it dials them from a peer store the attacker poisoned: ${pct(f)} of its entries are the attacker's before the restart, and they are the most recently seen, which is the order the store is redialed in (${pct(ob.eclipsedAtEnd.p)} eclipsed). Heilman et al.'s formula for Bitcoin, where an outbound peer is drawn at random from the tables, would give f^k = ${fmt(f, 2)}^${k} = ${fmt(f ** k, 2)}; the simulation does not follow it because Catena's store is not sampled at random: recency is an order the attacker controls, so a share of ${fmt(f, 2)} of the table buys all ${k} dials.
- **Dialed peers first** alone does nothing (${pct(b('+dialed').eclipsedAtEnd.p)}) because with shared slots the victim dials nobody; with outbound-only slots it is what makes those slots honest: leave it out of the full set and the botnet eclipses ${pct(b('-dialed').eclipsedAtEnd.p)} of runs.
- **Anchors** alone reconnect the victim to the ${DEFAULT_LIMITS.anchorPeers} outbound peers it held longest (the extra connections fit in libp2p's headroom): eclipsed in ${pct(b('+anchors').eclipsedAtEnd.p)} (botnet) of runs, when both anchors are offline at the restart or leave within the hour.
- **Inbound eviction** (Bitcoin Core's rule without its ping, transaction and block protections, which Catena does not track) lets honest newcomers in: it stops the infrastructure attacker, whose peers crowd a few groups and are evicted first (${pct(i('+evict').eclipsedAtEnd.p)}), but not the botnet (${pct(b('+evict').eclipsedAtEnd.p)}): with one peer per group the youngest is evicted, and the attacker connects again right after each honest newcomer.
- **All together** (the node's defaults now): ${b('all').eclipsedAtEnd.successes}/${runs} botnet and ${i('all').eclipsedAtEnd.successes}/${runs} infrastructure runs eclipsed; in the last hour the botnet holds ${pct(b('all').shareLastHour)} of the connections (the inbound side), and at the end ${b('all').final[3].toFixed(1)} of the victim's ${k} outbound connections are honest on average (${i('all').final[3].toFixed(1)} against the infrastructure attacker). Leaving one out: ${points
        .filter((p) => p.config.startsWith('-'))
        .map((p) => `${p.label.replace('all but ', 'no ')} ${pct(p.eclipsedAtEnd.p)} (${p.attacker})`)
        .join(', ')}. ${loadBearing(points)}`,
    },
    {
      title: 'The countermeasures now in the node',
      body: `Defaults in \`src/net/limits.ts\` (validated by resolveLimits; \`LEGACY_PEER_LIMITS\` turns them all off), wired in \`src/net/network.ts\`:

${markdownTable({
  columns: ['option', 'default', 'what it does', 'where'],
  rows: [
    ['outboundPeers', DEFAULT_LIMITS.outboundPeers, 'inbound connections get at most maxPeers - outboundPeers slots; the dialer dials until this many peers are ones it dialed', 'conn-policy.ts, dial-policy.ts'],
    ['maxInboundPerGroup', DEFAULT_LIMITS.maxInboundPerGroup, 'inbound connections per /16 (IPv4) or /32 (IPv6); private and loopback addresses exempt, and the three group limits are off on permissioned networks (allowlist)', 'conn-policy.ts, netgroup.ts'],
    ['maxOutboundPerGroup', DEFAULT_LIMITS.maxOutboundPerGroup, 'peers dialed from the store or peer exchange per group (bootnodes and anchors exempt)', 'dial-policy.ts'],
    ['maxStoredPerGroup', DEFAULT_LIMITS.maxStoredPerGroup, 'peer store entries per group', 'peer-table.ts'],
    ['preferDialedPeers', String(DEFAULT_LIMITS.preferDialedPeers), "peers the node dialed are never replaced by inbound-only ones and are redialed first (Bitcoin's tried table)", 'peer-table.ts'],
    ['evictInbound', String(DEFAULT_LIMITS.evictInbound), 'a newcomer evicts the youngest inbound peer of the largest group, after protecting 4 by a secret group order and the longest-connected half', 'conn-policy.ts'],
    ['anchorPeers', DEFAULT_LIMITS.anchorPeers, 'outbound peers held longest are written to anchors.json at shutdown and dialed first at the next start', 'anchors.ts'],
  ],
})}`,
    },
    {
      title: 'Limits of this model',
      body: `- Only the victim runs Catena's code; honest nodes and the attacker are modelled by what the victim sees of them. Connections open at once (no dial latency) and all peers serve the same protocols, so libp2p's pruner, which ranks by tags and open streams first, falls back to inbound-first, newest-first.
- libp2p's rate limit of 5 inbound connections per second per IP is not modelled: the attacker never needs more than a few per address.
- Bitcoin Core also protects inbound peers with the lowest ping and those that recently relayed transactions and blocks; Catena tracks none of these, so its eviction cannot tell an honest newcomer from the botnet's. That is why eviction alone does not stop the botnet here.
- The attacker does not attack the honest network around the victim (e.g. filling the bootnodes' slots), and its peer-exchange answers are only used while the victim is below targetPeers.`,
    },
  ]
}

/** Which countermeasures the full set cannot do without in this scenario, and which are depth. */
function loadBearing(points: PointResult[]): string {
  const without = points.filter((p) => p.config.startsWith('-'))
  const keys = [...new Set(without.map((p) => p.config))]
  const label = (k: string) => without.find((p) => p.config === k)!.label.replace('all but ', '')
  const needed = keys.filter((k) => without.some((p) => p.config === k && p.eclipsedAtEnd.successes > 0))
  const spare = keys.filter((k) => !needed.includes(k))
  if (needed.length === 0) return 'No single countermeasure is needed when the others are on: each is depth against this attack.'
  const alone = spare
    .map((k) => points.filter((p) => p.config === `+${k.slice(1)}`))
    .filter((ps) => ps.length > 0)
    .map((ps) => `${ps[0]!.label.replace('before + ', '')} ${ps.map((p) => `${Math.round(100 * p.eclipsedAtEnd.p)}% ${p.attacker}`).join(', ')}`)
  return `Here the set cannot do without ${needed.map(label).join(' and ')}: ${needed.length > 1 ? 'together they give' : 'it gives'} the victim outbound connections that the attacker can neither take nor poison. ${spare.map(label).join(', ')} change nothing once those are on in this scenario; alone they give (eclipsed runs) ${alone.join('; ')}, and they cover what this scenario does not test (an attacker that gets dialed, a store poisoned before the node ever dialed anyone).`
}

export function eclipseCharts(points: PointResult[], sc: Scenario): ChartSpec[] {
  const at = (config: string, attacker: string) => points.find((p) => p.config === config && p.attacker === attacker)!
  const xy = (p: PointResult): [number, number][] => p.shareSeries.map((s, i) => [Number(h((i + 1) * sc.sampleMs).toFixed(3)), Number(s.toFixed(4))])
  const marks = { markLine: { symbol: 'none', label: { formatter: '{b}' }, lineStyle: { type: 'dashed', color: '#888' }, data: [{ name: 'attack', xAxis: h(sc.warmupMs) }, { name: 'restart', xAxis: h(sc.warmupMs + sc.attackMs) }] } }
  const lines = [
    lineSeries('before, botnet', xy(at('before', 'botnet')), { ...marks, lineStyle: { width: 2 } }),
    lineSeries('before, infrastructure', xy(at('before', 'infrastructure')), { lineStyle: { type: 'dotted' } }),
    lineSeries('before + outbound-only slots, botnet', xy(at('+outbound', 'botnet'))),
    lineSeries('all countermeasures, botnet', xy(at('all', 'botnet')), { lineStyle: { width: 2 } }),
    lineSeries('all countermeasures, infrastructure', xy(at('all', 'infrastructure')), { lineStyle: { type: 'dotted' } }),
  ]
  const labels = [...new Set(points.map((p) => p.label))]
  const bars = ATTACKERS.map((a) => ({ name: a.name, type: 'bar', data: labels.map((l) => Number(points.find((p) => p.label === l && p.attacker === a.name)!.eclipsedAtEnd.p.toFixed(3))) }))
  return [
    {
      name: 'share',
      title: "Attacker's share of the victim's connections (mean over runs)",
      option: {
        legend: { top: 36 },
        grid: { top: 110, left: 60, right: 30, bottom: 50 },
        xAxis: { type: 'value', name: 'hours', nameLocation: 'middle', nameGap: 28, min: 0, max: Number(h(sc.warmupMs + sc.attackMs + sc.downtimeMs + sc.observeMs).toFixed(2)) },
        yAxis: { type: 'value', name: 'share', min: 0, max: 1 },
        series: lines,
      },
      width: 900,
      height: 520,
    },
    {
      name: 'rate',
      title: 'Eclipse rate at the end of the run, per configuration',
      option: {
        legend: { top: 36 },
        grid: { top: 70, left: 290, right: 40, bottom: 55 },
        xAxis: { type: 'value', min: 0, max: 1, name: 'share of runs eclipsed at the end', nameLocation: 'middle', nameGap: 28 },
        yAxis: { type: 'category', data: labels, inverse: true },
        series: bars,
      },
      width: 900,
      height: 600,
    },
  ]
}
