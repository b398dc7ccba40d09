/**
 * `catena lab double-spend --live`: the attack with real processes. Two miners of the
 * bitcoin-like preset, unaware of each other: the merchant's node mines with 1 thread, the
 * attacker's with 2 (a larger hashrate on the same machine). The attacker pays the merchant on
 * the merchant's node and, on its own hidden node, mines a branch with a conflicting tx (the
 * same sender nonce paying itself back). The merchant waits z confirmations and "ships". Once
 * its branch has more work, the attacker connects its node to the merchant's (the REST admin
 * route POST /v1/admin/peers, an operator's addnode): the merchant's node sees a peer with
 * more work, syncs its branch and reorganizes to it through its real fork choice; the payment
 * is gone, the conflicting tx is final instead, and the explorer raises its deep-reorg alert.
 *
 * Real processes and real mining: the timings differ run to run (the seed does not apply).
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromPrivateKey } from '@ethereumjs/util'
import { DEV_ACCOUNTS, loadChainSpec } from '../../chain/spec/index.ts'
import { makeCommon } from '../../execution/index.ts'
import { TEST_MNEMONIC, deriveKeys } from '../../wallet/hd.ts'
import type { ExperimentOptions, ExperimentResult } from '../experiment.ts'
import { lineSeries } from '../charts.ts'
import { LiveNode, waitUntil } from './node-process.ts'

type Hex = `0x${string}`
const PRESET = 'bitcoin-like'
/** Bitcoin's customary wait; also deeper than half the explorer's safe depth (6), so the alert fires. */
export const LIVE_CONFIRMATIONS = 6
const MERCHANT_THREADS = 1
const ATTACKER_THREADS = 2
const ETHER = 10n ** 18n

export interface LiveEvent {
  /** Seconds since the run started. */
  t: number
  what: string
}

export interface LiveDoubleSpend {
  confirmations: number
  merchantThreads: number
  attackerThreads: number
  paymentTx: string
  conflictTx: string
  paymentBlock: number
  acceptedAtHead: number
  attackerHeadAtPublish: number
  merchantHeadAtPublish: number
  reorgDepth: number | null
  paymentReversed: boolean
  conflictFinalOnMerchant: boolean
  alert: { kind: string; severity: string; message: string } | null
  seconds: number
  events: LiveEvent[]
  /** Each node's head height through the run (sampled every 250 ms), for the chart. */
  heights: Array<{ t: number; merchant: number; attacker: number }>
}

interface HeadJSON {
  number: Hex
  hash: Hex
  totalDifficulty: Hex
}

const head = (n: LiveNode) => n.rpc.call<HeadJSON>('eth_getBlockByNumber', ['latest', false])
const receipt = (n: LiveNode, tx: string) => n.rpc.call<{ blockNumber: Hex; blockHash: Hex } | null>('eth_getTransactionReceipt', [tx])

export async function runLiveDoubleSpend(opts: Pick<ExperimentOptions, 'progress'>, z = LIVE_CONFIRMATIONS): Promise<LiveDoubleSpend> {
  const started = Date.now()
  const events: LiveEvent[] = []
  const note = (what: string) => {
    const e = { t: Math.round((Date.now() - started) / 100) / 10, what }
    events.push(e)
    opts.progress(`live double-spend: ${e.t.toFixed(1)} s ${what}`)
  }
  const spec = loadChainSpec(PRESET)
  const common = makeCommon(spec.chainId)
  const [attackerKey, merchantKey, stashKey] = deriveKeys(TEST_MNEMONIC, 3).map((k) => k.privateKey)
  const merchant = createAddressFromPrivateKey(merchantKey!)
  const stash = createAddressFromPrivateKey(stashKey!)
  const root = await mkdtemp(join(tmpdir(), 'catena-lab-live-'))
  const apiKey = bytesToHex(randomBytes(24)).slice(2)
  const nodes: LiveNode[] = []
  const heights: LiveDoubleSpend['heights'] = []
  let sampler: NodeJS.Timeout | undefined
  try {
    const mine = (threads: number, coinbase: string) => ['--chain', PRESET, '--p2p-port', '0', '--mine', '--miner-threads', String(threads), '--coinbase', coinbase]
    const [honest, attacker] = await Promise.all([
      LiveNode.start('merchant node', await dir(root, 'merchant'), mine(MERCHANT_THREADS, DEV_ACCOUNTS[4]!)),
      LiveNode.start('attacker node', await dir(root, 'attacker'), mine(ATTACKER_THREADS, DEV_ACCOUNTS[5]!), { env: { CATENA_API_KEY: apiKey } }),
    ])
    nodes.push(honest!, attacker!)
    sampler = setInterval(() => {
      void Promise.all([head(honest!), head(attacker!)])
        .then(([m, a]) => heights.push({ t: Math.round((Date.now() - started) / 100) / 10, merchant: Number(m.number), attacker: Number(a.number) }))
        .catch(() => undefined)
    }, 250)
    note(`two miners started apart: merchant ${MERCHANT_THREADS} thread, attacker ${ATTACKER_THREADS} threads (${PRESET})`)

    // One nonce, two payments: 60 of the attacker's 100 coins to the merchant, or back to itself.
    const sign = (to: typeof merchant) =>
      bytesToHex(
        createFeeMarket1559Tx({ nonce: 0n, to, value: 60n * ETHER, gasLimit: 21_000n, maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 2_000_000_000n, chainId: spec.chainId }, { common })
          .sign(attackerKey!)
          .serialize(),
      )
    const paymentTx = await honest!.rpc.call<string>('eth_sendRawTransaction', [sign(merchant)])
    const conflictTx = await attacker!.rpc.call<string>('eth_sendRawTransaction', [sign(stash)])
    note(`payment ${paymentTx.slice(0, 10)}… sent to the merchant's node; the conflicting tx ${conflictTx.slice(0, 10)}… to the attacker's own`)

    const paid = await waitUntil('the payment to be mined', async () => (await receipt(honest!, paymentTx)) ?? undefined, 60_000)
    const paymentBlock = Number(paid.blockNumber)
    note(`payment mined in the merchant's block ${paymentBlock}`)
    const accepted = await waitUntil(`${z} confirmations`, async () => {
      const h = Number((await head(honest!)).number)
      const r = await receipt(honest!, paymentTx)
      return r && h - Number(r.blockNumber) + 1 >= z ? h : undefined
    }, 90_000)
    note(`merchant sees ${z} confirmations (head ${accepted}) and ships the goods`)

    await waitUntil('the attacker to mine its conflicting tx', async () => (await receipt(attacker!, conflictTx)) ?? undefined, 60_000)
    const ahead = await waitUntil('the attacker branch to get ahead', async () => {
      const [a, h] = await Promise.all([head(attacker!), head(honest!)])
      return BigInt(a.totalDifficulty) > BigInt(h.totalDifficulty) ? { a: Number(a.number), h: Number(h.number) } : undefined
    }, 90_000, 100)
    note(`attacker branch has more work (height ${ahead.a} against ${ahead.h}): it connects to the merchant's node`)

    const res = await fetch(`${attacker!.restUrl}/admin/peers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ addr: honest!.p2p }),
    })
    if (!res.ok) throw new Error(`the attacker node could not connect: ${res.status} ${await res.text()}`)

    const outcome = await waitUntil('the merchant node to settle on one branch', async () => {
      const [p, c] = await Promise.all([receipt(honest!, paymentTx), receipt(honest!, conflictTx)])
      if (c && !p) return 'reversed' as const
      // The merchant's branch won the race after all: the attacker's node reorganized to it.
      if (p && (await receipt(attacker!, paymentTx))) return 'failed' as const
      return undefined
    }, 60_000)
    let reorgDepth: number | null = null
    let alert: LiveDoubleSpend['alert'] = null
    if (outcome === 'reversed') {
      note('merchant node reorganized to the attacker branch: the payment is gone, the conflicting tx is in its chain')
      const found = await waitUntil('the deep-reorg alert', async () => {
        const items = ((await (await fetch(`${honest!.restUrl}/alerts`)).json()) as { items: Array<{ kind: string; severity: string; message: string; data: { depth?: number } }> }).items
        return items.find((x) => x.kind === 'deep-reorg')
      }, 30_000)
      alert = { kind: found.kind, severity: found.severity, message: found.message }
      reorgDepth = found.data.depth ?? null
      note(`explorer alert (${found.severity}): ${found.message}`)
    } else {
      note('the merchant branch stayed ahead: the attack failed this time')
    }
    const [p, c] = await Promise.all([receipt(honest!, paymentTx), receipt(honest!, conflictTx)])
    return {
      confirmations: z,
      merchantThreads: MERCHANT_THREADS,
      attackerThreads: ATTACKER_THREADS,
      paymentTx,
      conflictTx,
      paymentBlock,
      acceptedAtHead: accepted,
      attackerHeadAtPublish: ahead.a,
      merchantHeadAtPublish: ahead.h,
      reorgDepth,
      paymentReversed: p === null,
      conflictFinalOnMerchant: c !== null,
      alert,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      events,
      heights,
    }
  } finally {
    clearInterval(sampler)
    await Promise.all(nodes.map((n) => n.stop()))
    await rm(root, { recursive: true, force: true })
  }
}

async function dir(root: string, name: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises')
  const d = join(root, name)
  await mkdir(d, { recursive: true, mode: 0o700 })
  return d
}

/** The live run as a lab result (its report, table and checks). */
export function liveResult(r: LiveDoubleSpend, seed: number): ExperimentResult {
  const rows = r.events.map((e) => [e.t.toFixed(1), e.what])
  return {
    name: 'double-spend-live',
    title: 'Double spend against real nodes (bitcoin-like, two miner processes)',
    seed,
    runs: 1,
    table: { columns: ['s', 'what happened'], rows },
    sections: [
      {
        title: 'What ran',
        body: [
          `Two \`catena node\` processes of the \`${PRESET}\` preset on 127.0.0.1, each mining from genesis without knowing the other: the merchant's with ${r.merchantThreads} miner thread, the attacker's with ${r.attackerThreads}.`,
          `The attacker sent a payment of 60 coins to the merchant's node (${r.paymentTx}) and the same-nonce tx paying itself to its own node (${r.conflictTx}).`,
          `The payment was mined in block ${r.paymentBlock}; the merchant accepted it at ${r.confirmations} confirmations (its head ${r.acceptedAtHead}).`,
          `When its branch had more work (height ${r.attackerHeadAtPublish} against ${r.merchantHeadAtPublish}), the attacker connected its node to the merchant's through the admin API (POST /v1/admin/peers).`,
          r.paymentReversed
            ? `The merchant's node synced the heavier branch and reorganized ${r.reorgDepth ?? '?'} blocks deep: the payment is no longer in its chain and the conflicting tx is.`
            : 'The merchant branch stayed ahead: the payment stands (the attack failed this run).',
          r.alert ? `Its explorer raised a ${r.alert.severity} alert: "${r.alert.message}".` : '',
          `Total ${r.seconds} s.`,
        ].filter(Boolean).join('\n'),
      },
    ],
    charts: [
      {
        name: 'heights',
        title: 'Head height of each node: the hidden branch overtakes, then replaces the merchant\'s',
        option: {
          legend: { top: 28 },
          grid: { top: 70, left: 60, right: 30, bottom: 50 },
          xAxis: { type: 'value', name: 'seconds', nameLocation: 'middle', nameGap: 28 },
          yAxis: { type: 'value', name: 'head height' },
          series: [
            lineSeries("merchant's node", r.heights.map((h) => [h.t, h.merchant] as [number, number]), { step: 'end' }),
            lineSeries("attacker's node", r.heights.map((h) => [h.t, h.attacker] as [number, number]), { step: 'end' }),
          ],
        },
      },
    ],
    checks: [
      { name: 'payment reversed on the merchant node', pass: r.paymentReversed && r.conflictFinalOnMerchant, detail: r.paymentReversed ? `reorg depth ${r.reorgDepth}` : 'the payment is still in the merchant chain' },
      { name: 'explorer deep-reorg alert', pass: r.alert?.kind === 'deep-reorg', detail: r.alert ? `${r.alert.severity}: ${r.alert.message}` : 'no alert' },
      { name: 'under two minutes', pass: r.seconds < 120, detail: `${r.seconds} s` },
    ],
    data: r,
  }
}
