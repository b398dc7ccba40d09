/**
 * Gossip topics over gossipsub: txs, blocks and consensus messages of one chain. A subscriber
 * gives a validator that both checks and takes the message (Lodestar's pattern): 'accept'
 * relays it on, 'ignore' drops it quietly (duplicate, stale, not ours to judge), 'reject'
 * drops it and costs the peer that sent it score. Messages over the topic's size limit are
 * rejected before the validator sees them.
 *
 * Messages are unsigned at the libp2p level (the payloads carry their own signatures), so the
 * sender we score is the propagation source: the peer that handed us the message. Gossipsub
 * relays only what its own validator accepted, so an honest relay never forwards garbage.
 * @module
 */
import './polyfill.ts'
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { plainBytes } from './codec.ts'
import { NetError, PENALTY } from './errors.ts'
import type { CatenaLibp2p } from './host.ts'
import { assertTopic, topicId, type GossipTopic } from './protocols.ts'

export type GossipVerdict = 'accept' | 'ignore' | 'reject'

/** Checks (and takes) one message; should answer within ~100 ms, as gossipsub expects. */
export type GossipValidator = (data: Uint8Array, from: string) => GossipVerdict | Promise<GossipVerdict>

export interface GossipOptions {
  libp2p: CatenaLibp2p
  tag: string
  limits: Readonly<Record<GossipTopic, number>>
  penalize(peer: string, points: number, reason: string): void
  log: Logger
}

const RESULT: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
}

export class Gossip {
  private readonly subscribed = new Set<GossipTopic>()

  constructor(private readonly opts: GossipOptions) {}

  private get pubsub() {
    return this.opts.libp2p.services.pubsub
  }

  /** Joins `topic`; returns a function that leaves it. One subscriber per topic. */
  subscribe(topic: GossipTopic, validator: GossipValidator): () => void {
    assertTopic(topic)
    if (this.subscribed.has(topic)) throw new NetError('ALREADY_HANDLED', `already subscribed to ${topic}`)
    const id = topicId(this.opts.tag, topic)
    const limit = this.opts.limits[topic]
    this.pubsub.topicValidators.set(id, (peer: PeerId, msg: Message) => this.validate(topic, limit, validator, peer, msg))
    this.pubsub.subscribe(id)
    this.subscribed.add(topic)
    return () => {
      if (!this.subscribed.delete(topic)) return
      this.pubsub.unsubscribe(id)
      this.pubsub.topicValidators.delete(id)
    }
  }

  private async validate(
    topic: GossipTopic,
    limit: number,
    validator: GossipValidator,
    peerId: PeerId,
    msg: Message,
  ): Promise<TopicValidatorResult> {
    const peer = peerId.toString()
    if (msg.data.length > limit) {
      this.opts.log.debug({ peer, topic, bytes: msg.data.length, limit }, 'oversized gossip message rejected')
      this.opts.penalize(peer, PENALTY.oversized, `${topic} gossip of ${msg.data.length} bytes is over the ${limit}-byte limit`)
      return TopicValidatorResult.Reject
    }
    let verdict: GossipVerdict
    try {
      verdict = await validator(plainBytes(msg.data), peer)
    } catch (err) {
      // A throwing validator is our bug, not the peer's fault.
      this.opts.log.warn({ err, peer, topic }, 'gossip validator failed')
      return TopicValidatorResult.Ignore
    }
    const result = RESULT[verdict]
    if (result === undefined) {
      this.opts.log.warn({ peer, topic, verdict }, 'gossip validator returned an unknown verdict')
      return TopicValidatorResult.Ignore
    }
    if (verdict === 'reject') this.opts.penalize(peer, PENALTY.rejectedGossip, `invalid ${topic} gossip`)
    return result
  }

  /** Publishes to `topic`; returns how many peers it was sent to. */
  async publish(topic: GossipTopic, data: Uint8Array): Promise<number> {
    assertTopic(topic)
    const limit = this.opts.limits[topic]
    if (data.length > limit) {
      throw new NetError('TOO_LARGE', `${topic} message of ${data.length} bytes is over the ${limit}-byte limit`)
    }
    const { recipients } = await this.pubsub.publish(topicId(this.opts.tag, topic), data)
    return recipients.length
  }

  /** Peers known to be subscribed to `topic`. */
  topicPeers(topic: GossipTopic): string[] {
    assertTopic(topic)
    return this.pubsub.getSubscribers(topicId(this.opts.tag, topic)).map(String)
  }
}
