/**
 * Builds the consensus engine a chain spec names (dev, bft, poh, pow) with the node's
 * options: the one place that knows every engine's constructor. Engines are loaded only
 * when used (bft and poh pull in libp2p's gossip transport).
 * @module
 */
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { Chain } from '../chain/chain.ts'
import type { ChainSpec } from '../chain/spec/index.ts'
import { DevEngine, DEV_COINBASE, DEV_SIGNER_KEY, devSigningKey, type ConsensusEngine } from '../consensus/index.ts'
import type { CommonSchedule, Commons } from '../execution/common.ts'
import type { Network } from '../net/index.ts'
import { gossipTransport } from './consensus-transport.ts'
import type { NodeConfig } from './node.ts'

export async function createEngine(spec: ChainSpec, cfg: NodeConfig, deps: { network?: Network; common: Commons; chain: Chain; validatorKey?: Uint8Array }): Promise<ConsensusEngine> {
  switch (spec.engine.type) {
    case 'dev': {
      const { signer } = spec.engine
      // The chain's signer signs every block: the key given, or the public dev key when the signer is its address.
      const signingKey = devSigningKey(spec.engine, deps.validatorKey)
      if (signer && signingKey && equalsBytes(signingKey, DEV_SIGNER_KEY)) {
        cfg.logger.info({ signer: bytesToHex(signer) }, 'signing dev blocks with the public dev key (test account #0): anyone can sign such blocks')
      } else if (signer) {
        cfg.logger.info({ signer: bytesToHex(signer) }, "signing dev blocks with the chain's signer key")
      } else if (deps.validatorKey) {
        cfg.logger.warn('this dev chain names no signer (engine.signer): its blocks are not signed and --validator-key-file is not used')
      }
      return new DevEngine({
        automine: cfg.automine ?? spec.engine.automine,
        intervalMs: cfg.blockIntervalMs ?? spec.engine.intervalMs,
        producer: hexToBytes((cfg.coinbase ?? DEV_COINBASE) as `0x${string}`),
        ...(signer && signingKey ? { signer, signingKey } : {}),
      })
    }
    case 'bft': {
      if (!deps.network) throw new Error('a bft chain needs the network: pass --p2p-port (and --bootnodes)')
      const privateKey = deps.validatorKey
      if (!privateKey) cfg.logger.info('no --validator-key-file: following consensus without voting')
      const { BftEngine, chainMembership } = await import('../consensus/bft-engine/index.ts')
      return new BftEngine({
        chainId: spec.chainId,
        config: spec.engine,
        privateKey,
        transport: gossipTransport(deps.network, cfg.logger, (await import('../net/index.ts')).GOSSIP_INLINE_BYTES),
        common: deps.common,
        datadir: cfg.datadir,
        // PoS chains: validators and their power follow stake; permissioned chains: the on-chain votes.
        membership: chainMembership(deps.chain, spec.engine),
        ...(cfg.byzantine === 'double-vote' ? { byzantine: cfg.byzantine } : {}),
      })
    }
    case 'poh': {
      const privateKey = deps.validatorKey
      if (!privateKey) cfg.logger.info('no --validator-key-file: following the PoH chain without leading or voting')
      const { PohEngine } = await import('../consensus/poh-engine/index.ts')
      const chain = deps.chain
      return new PohEngine({
        chainId: spec.chainId,
        spec: spec.engine,
        chain: {
          genesisHash: chain.genesisHash,
          getHeader: (hash) => chain.getHeader(hash),
          getHashAt: (height) => chain.getHashAt(height),
          isCanonical: (hash) => chain.isCanonical(hash),
          stakesAfter: (height) => chain.stakes.after(height),
        },
        datadir: cfg.datadir,
        ...(privateKey ? { privateKey } : {}),
        ...(cfg.byzantine && cfg.byzantine !== 'double-vote' ? { byzantine: cfg.byzantine } : {}),
        ...(deps.network ? { transport: gossipTransport(deps.network, cfg.logger, (await import('../net/index.ts')).GOSSIP_INLINE_BYTES) } : {}),
      })
    }
    case 'pow': {
      const { PowEngine } = await import('../consensus/pow/engine.ts')
      return new PowEngine({
        spec: spec.engine,
        blockTimeMs: spec.blockTimeMs,
        headers: deps.chain,
        coinbase: hexToBytes((cfg.coinbase ?? DEV_COINBASE) as `0x${string}`),
        mine: cfg.mine ?? false,
        ...(cfg.minerThreads ? { threads: cfg.minerThreads } : {}),
        // After a fork that changes the chain id, seals commit to it: the two sides never merge.
        ...(deps.chain.commons.forksChainId ? { sealChainId: (h: bigint) => forkChainId(deps.chain.commons, h) } : {}),
      })
    }
  }
}

/** The chain id a block commits to in its PoW seal: the fork's, once one changed it (else none). */
function forkChainId(commons: CommonSchedule, height: bigint): bigint | undefined {
  const id = commons.chainIdAt(height)
  return id === commons.genesis.chainId() ? undefined : id
}
