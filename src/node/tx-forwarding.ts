/**
 * Tx forwarding wired for engines that know the coming leaders (engine.txForwardTargets: PoH):
 * the validator identity protocol (peers prove which validator they run; a validator proves
 * its own with its key) and TxRelay's forward options. Other engines get nothing: their txs are
 * gossiped to all, as before.
 * @module
 */
import type { Logger } from 'pino'
import type { Chain } from '../chain/chain.ts'
import type { ConsensusEngine } from '../consensus/index.ts'
import { privateKeyToAddress } from '../crypto/secp256k1.ts'
import type { Network, ValidatorIdentities } from '../net/index.ts'
import type { TxForwardOptions } from '../sync/tx-forward.ts'

export async function txForwarding(
  network: Network,
  chain: Chain,
  engine: ConsensusEngine,
  log: Logger,
  validatorKey?: Uint8Array,
): Promise<{ identities: ValidatorIdentities; forward: TxForwardOptions } | undefined> {
  if (!engine.txForwardTargets) return undefined
  const { ValidatorIdentities } = await import('../net/index.ts')
  const identities = new ValidatorIdentities({
    network,
    chainId: chain.spec.chainId,
    genesisHash: chain.genesisHash,
    ...(validatorKey ? { privateKey: validatorKey } : {}),
    log,
  })
  await identities.start()
  const targets = engine.txForwardTargets.bind(engine)
  return { identities, forward: { identities, targets, ...(validatorKey ? { self: privateKeyToAddress(validatorKey) } : {}) } }
}
