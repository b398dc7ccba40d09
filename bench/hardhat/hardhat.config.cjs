// Hardhat 2 config used only by bench/transfers.ts to run `hardhat node` as a peer.
// Same chain id and prefunded mnemonic as the other targets; automine so each
// eth_sendRawTransaction is mined in its own block before the call returns.
const count = Number(process.env.BENCH_ACCOUNTS || 20)

/** @type {import('hardhat/config').HardhatUserConfig} */
module.exports = {
  networks: {
    hardhat: {
      chainId: 1337,
      accounts: {
        mnemonic: 'test test test test test test test test test test test junk',
        count: Number.isInteger(count) && count > 0 ? count : 20,
      },
      mining: { auto: true },
    },
  },
}
