/**
 * Built-in chain specs as data (like bcoin's lib/protocol/networks.js): each preset is a
 * genesis file in JSON shape and goes through the same validation as a file on disk.
 */
import type { ChainSpecJSON } from './schema.ts'

const ETHER = 10n ** 18n
const GWEI = 10n ** 9n

/**
 * The 20 accounts of the test mnemonic ("test test ... junk") at m/44'/60'/0'/0/0..19,
 * the ones Hardhat and Anvil prefund, so viem, ethers and MetaMask work with no set-up.
 * Kept as data; a unit test re-derives them from the mnemonic.
 */
export const DEV_ACCOUNTS = [
  '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
  '0x90F79bf6EB2c4f870365E785982E1f101E93b906',
  '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65',
  '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc',
  '0x976EA74026E726554dB657fA54763abd0C3a0aa9',
  '0x14dC79964da2C08b23698B3D3cc7Ca32193d9955',
  '0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f',
  '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720',
  '0xBcd4042DE499D14e55001CcbB24a551F3b954096',
  '0x71bE63f3384f5fb98995898A86B02Fb2426c5788',
  '0xFABB0ac9d68B0B445fB7357272Ff202C5651694a',
  '0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec',
  '0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097',
  '0xcd3B766CCDd6AE721141F452C550Ca635964ce71',
  '0x2546BcD3c84621e976D8185a91A922aE77ECEc30',
  '0xbDA5747bFD65F08deb54cb465eB87D40e51B197E',
  '0xdD2FD4581271e230360230F9337D5c0430Bf44C0',
  '0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199',
] as const

export const DEV_ACCOUNT_BALANCE = 10_000n * ETHER

/**
 * The dev preset's blocks are signed by test account #0 (DEV_ACCOUNTS[0]), whose private key is
 * public (consensus/dev-seal.ts DEV_SIGNER_KEY): `catena node --chain dev` signs with it unless
 * given another key. So followers and light clients can check who made each block, but the
 * key proves nothing against anyone who read this file: a chain that must trust its producer
 * sets its own `signer` in a genesis file and keeps that key private.
 */
const dev: ChainSpecJSON = {
  name: 'dev',
  chainId: 1337,
  engine: { type: 'dev', automine: true, intervalMs: 0, signer: DEV_ACCOUNTS[0] },
  blockTimeMs: 1000,
  limits: { maxBlockBytes: 5 * 1024 * 1024, blockGasLimit: 30_000_000, maxTxBytes: 128 * 1024 },
  monetary: {
    initialBlockReward: (2n * ETHER).toString(),
    halvingInterval: 1_000_000,
    supplyCap: (1_000_000_000n * ETHER).toString(),
    baseFeeBurn: true,
    minGasPrice: '1',
  },
  feeMarket: { initialBaseFee: GWEI.toString(), adjust: true, elasticityMultiplier: 2, changeDenominator: 8 },
  genesis: {
    timestamp: 1_700_000_000,
    extraData: '0x',
    alloc: Object.fromEntries(DEV_ACCOUNTS.map((a) => [a, { balance: DEV_ACCOUNT_BALANCE.toString() }])),
  },
  forks: [],
}

/**
 * A permissioned consortium chain: PoA BFT among accounts 0..3 of the test mnemonic (power 1
 * each, so any 3 finalize), instant finality, free gas (base fee 0, no price floor, no
 * adjustment) and no block reward: members run it, they do not mine it. The same four are its
 * admins: they change validators and the account and node allowlists by majority vote in the
 * permissions contract (both lists start open).
 */
const consortium: ChainSpecJSON = {
  name: 'consortium',
  chainId: 1338,
  engine: {
    type: 'bft',
    validators: DEV_ACCOUNTS.slice(0, 4).map((address) => ({ address, power: 1 })),
    // commitMs 500 (CometBFT's timeout_commit; was 1000): bench/bft.ts at 800 tx/s offered, p50
    // submit-to-final 0.85-0.90 s against 1.53-2.27 s with 1000, and more final tx/s at 1,200 offered.
    timeouts: { proposeMs: 3000, prevoteMs: 1000, precommitMs: 1000, deltaMs: 500, commitMs: 500 },
  },
  blockTimeMs: 1000,
  // 100M gas (4,761 transfers): measured with bench/bft.ts on 2 cores, 30M capped the network
  // near 740 final tx/s (1,428 transfers a block), 100M gave 1,017-1,040 at 1,200 offered. A free-gas
  // block cannot outlast the round: the proposer stops adding txs after a third of proposeMs.
  limits: { maxBlockBytes: 5 * 1024 * 1024, blockGasLimit: 100_000_000, maxTxBytes: 128 * 1024 },
  monetary: {
    initialBlockReward: '0',
    halvingInterval: 0,
    supplyCap: (1_000_000_000n * ETHER).toString(),
    baseFeeBurn: true,
    minGasPrice: '0',
  },
  feeMarket: { initialBaseFee: '0', adjust: false, elasticityMultiplier: 2, changeDenominator: 8 },
  genesis: {
    timestamp: 1_700_000_000,
    extraData: '0x',
    alloc: Object.fromEntries(DEV_ACCOUNTS.map((a) => [a, { balance: DEV_ACCOUNT_BALANCE.toString() }])),
  },
  forks: [],
  // The four validators are the members: they vote on validators and allowlists on chain.
  permissions: { admins: DEV_ACCOUNTS.slice(0, 4), accounts: null, nodes: null },
}

/**
 * An Ethereum-like Proof-of-Stake chain: BFT rounds among validators who bond stake in the
 * staking contract (accounts 0..3 of the test mnemonic, 32 ETH each at genesis; power = stake
 * in ETH). The set follows stake every 32-block epoch; a double vote burns 5% of the stake and
 * jails the validator. Each block mints 0.1 ETH: 1/4 to the proposer, 3/4 to the voters of the
 * parent's certificate by power. EIP-1559 base fee, burnt.
 */
const ethereumLike: ChainSpecJSON = {
  name: 'ethereum-like',
  chainId: 1339,
  engine: {
    type: 'bft',
    validators: DEV_ACCOUNTS.slice(0, 4).map((address) => ({ address, stake: (32n * ETHER).toString() })),
    timeouts: { proposeMs: 3000, prevoteMs: 1000, precommitMs: 1000, deltaMs: 500, commitMs: 1000 },
    staking: {
      epochLength: 32,
      minStake: (32n * ETHER).toString(),
      unbondingBlocks: 256,
      slashBasisPoints: 500,
      jailBlocks: 256,
      maxValidators: 100,
      proposerRewardBasisPoints: 2500,
    },
  },
  blockTimeMs: 1000,
  limits: { maxBlockBytes: 5 * 1024 * 1024, blockGasLimit: 30_000_000, maxTxBytes: 128 * 1024 },
  monetary: {
    initialBlockReward: (ETHER / 10n).toString(),
    halvingInterval: 0,
    supplyCap: (1_000_000_000n * ETHER).toString(),
    baseFeeBurn: true,
    minGasPrice: '1',
  },
  feeMarket: { initialBaseFee: GWEI.toString(), adjust: true, elasticityMultiplier: 2, changeDenominator: 8 },
  genesis: {
    timestamp: 1_700_000_000,
    extraData: '0x',
    alloc: Object.fromEntries(DEV_ACCOUNTS.map((a) => [a, { balance: DEV_ACCOUNT_BALANCE.toString() }])),
  },
  forks: [],
}

/**
 * A Bitcoin-like Proof-of-Work chain: 1 MB blocks, 50 coins per block halving every 210,000
 * blocks up to 21 million, Bitcoin's retarget every 2016 blocks (4x clamp), subsidy mature after
 * 100 blocks, fees (tips) to the miner (no base fee). The block time is 5 s instead of 10
 * minutes so a local network moves; the first target (0x1e10c6f7, about a million hashes per
 * block) suits one miner thread on a laptop. Edit both in a genesis file (`catena init`).
 */
const bitcoinLike: ChainSpecJSON = {
  name: 'bitcoin-like',
  chainId: 1340,
  engine: { type: 'pow', initialBits: 0x1e10c6f7, powLimitBits: 0x1f00ffff, retarget: { kind: 'bitcoin', interval: 2016 }, coinbaseMaturity: 100, maxReorgDepth: 1000 },
  blockTimeMs: 5000,
  limits: { maxBlockBytes: 1_000_000, blockGasLimit: 30_000_000, maxTxBytes: 128 * 1024 },
  monetary: {
    initialBlockReward: (50n * ETHER).toString(),
    halvingInterval: 210_000,
    supplyCap: (21_000_000n * ETHER).toString(),
    baseFeeBurn: false,
    minGasPrice: GWEI.toString(),
  },
  feeMarket: { initialBaseFee: '0', adjust: false, elasticityMultiplier: 2, changeDenominator: 8 },
  genesis: {
    timestamp: 1_700_000_000,
    extraData: '0x',
    alloc: Object.fromEntries(DEV_ACCOUNTS.map((a) => [a, { balance: (100n * ETHER).toString() }])),
  },
  forks: [],
}

/**
 * Bitcoin Cash-like: the same coin, 32 MB blocks and a per-block target (ASERT, aserti3-2d)
 * whose half-life is 288 block times, as on BCH (2 days at 10 minutes).
 */
const bitcoinCashLike: ChainSpecJSON = {
  ...bitcoinLike,
  name: 'bitcoin-cash-like',
  chainId: 1341,
  engine: { type: 'pow', initialBits: 0x1e10c6f7, powLimitBits: 0x1f00ffff, retarget: { kind: 'asert', halfLifeSeconds: 288 * 5 }, coinbaseMaturity: 100, maxReorgDepth: 1000 },
  limits: { maxBlockBytes: 32_000_000, blockGasLimit: 30_000_000, maxTxBytes: 128 * 1024 },
}

/**
 * A Solana-like chain: Proof of History (64 ticks a slot, one block per 400 ms slot), leaders
 * drawn per 128-slot epoch by the stake bonded in the staking contract (accounts 0..3 of the
 * test mnemonic: 40, 30, 20 and 10 ETH, so leaders rotate by weight), votes with Tower
 * lockouts, stake-weighted fork choice, and parallel execution of txs over the state they
 * declare. The clock runs in low-power mode: ticks of 2,500 hashes paced to 6.25 ms, so four
 * validators on one laptop can each replay every slot (a full-rate slot costs a core for
 * 400 ms to make and as much to verify). A real cluster sets hashesPerTick from
 * `catena poh calibrate` on its slowest validator and drops minTickMs.
 */
const solanaLike: ChainSpecJSON = {
  name: 'solana-like',
  chainId: 1342,
  engine: {
    type: 'poh',
    validators: DEV_ACCOUNTS.slice(0, 4).map((address, i) => ({ address, stake: (BigInt(40 - 10 * i) * ETHER).toString() })),
    staking: {
      epochLength: 128,
      minStake: ETHER.toString(),
      unbondingBlocks: 1024,
      slashBasisPoints: 500,
      jailBlocks: 1024,
      maxValidators: 100,
      proposerRewardBasisPoints: 10000,
    },
    hashesPerTick: 2500,
    ticksPerSlot: 64,
    slotsPerEpoch: 128,
    minTickMs: 6.25,
  },
  blockTimeMs: 400,
  // Sealevel: txs run in parallel batches over the state they declare (their access lists).
  execution: { parallel: true },
  limits: { maxBlockBytes: 5 * 1024 * 1024, blockGasLimit: 48_000_000, maxTxBytes: 128 * 1024 },
  monetary: {
    initialBlockReward: (ETHER / 100n).toString(),
    halvingInterval: 0,
    supplyCap: (1_000_000_000n * ETHER).toString(),
    baseFeeBurn: true,
    minGasPrice: '1',
  },
  feeMarket: { initialBaseFee: GWEI.toString(), adjust: true, elasticityMultiplier: 2, changeDenominator: 8 },
  genesis: {
    timestamp: 1_700_000_000,
    extraData: '0x',
    alloc: Object.fromEntries(DEV_ACCOUNTS.map((a) => [a, { balance: DEV_ACCOUNT_BALANCE.toString() }])),
  },
  forks: [],
}

const PRESETS: Readonly<Record<string, ChainSpecJSON>> = {
  dev,
  consortium,
  'ethereum-like': ethereumLike,
  'bitcoin-like': bitcoinLike,
  'bitcoin-cash-like': bitcoinCashLike,
  'solana-like': solanaLike,
}

export function listPresets(): string[] {
  return Object.keys(PRESETS)
}

/** A fresh copy of a preset's JSON, or undefined when no preset has that name. */
export function presetJSON(name: string): ChainSpecJSON | undefined {
  return Object.hasOwn(PRESETS, name) ? structuredClone(PRESETS[name]) : undefined
}
