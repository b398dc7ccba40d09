/**
 * What a light client needs from a full node to check its answers without trusting it:
 * `catena_getHeader` (a block's header exactly as its hash commits to it: RLP, double
 * SHA-256 is the block hash), `catena_getBlockBody` (its raw txs) and `catena_getTransactionProof` (a tx and its receipt with RFC
 * 6962 audit paths to the header's txRoot and receiptsRoot). eth_getProof (state) lives with
 * the state methods; the BFT engine serves catena_getCommit.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import { encodeHeader } from '../../chain/block.ts'
import { merkleProof } from '../../crypto/merkle.ts'
import { encodeReceipt } from '../../execution/receipt.ts'
import { txBytes } from '../../execution/tx-bytes.ts'
import { expectParams, parseBlockTag, parseHash, toQuantity } from '../rpc/params.ts'
import type { RpcHandler } from '../rpc/server.ts'
import { resolveBlockRef, type EthBackend } from './backend.ts'

export function proofMethods(b: EthBackend): Record<string, RpcHandler> {
  return {
    /** The RLP header of a block (a tag, number, hash or EIP-1898 object); null when unknown. */
    catena_getHeader: (params) => {
      expectParams(params, 1)
      const r = resolveBlockRef(b, parseBlockTag(params[0], 'block'))
      return r ? bytesToHex(encodeHeader(r.header)) : null
    },
    /** A block's txs as raw bytes (their RFC 6962 root is the header's txRoot); null when unknown. */
    catena_getBlockBody: (params) => {
      expectParams(params, 1)
      const r = resolveBlockRef(b, parseBlockTag(params[0], 'block'))
      const block = r && b.chain.getBlock(r.hash)
      return block ? block.txs.map((tx) => bytesToHex(txBytes(tx))) : null
    },
    /**
     * A canonical tx with the audit paths of its bytes (leaf of txRoot) and of its encoded
     * receipt (leaf of receiptsRoot); null when the tx is not in the canonical chain.
     */
    catena_getTransactionProof: (params) => {
      expectParams(params, 1)
      const loc = b.chain.getTxLocation(parseHash(params[0], 'transaction hash'))
      if (!loc || !b.chain.isCanonical(loc.blockHash)) return null
      const block = b.chain.getBlock(loc.blockHash)
      const receipts = b.chain.getReceipts(loc.blockHash)
      if (!block || !receipts) return null
      const txs = block.txs.map(txBytes)
      const encoded = receipts.map(encodeReceipt)
      const txPath = merkleProof(txs, loc.index)
      const receiptPath = merkleProof(encoded, loc.index)
      return {
        blockHash: bytesToHex(loc.blockHash),
        blockNumber: toQuantity(loc.height),
        index: toQuantity(BigInt(loc.index)),
        leafCount: toQuantity(BigInt(txs.length)),
        txRoot: bytesToHex(block.header.txRoot),
        rawTransaction: bytesToHex(txs[loc.index]!),
        txSiblings: txPath.siblings.map((s) => bytesToHex(s)),
        receiptsRoot: bytesToHex(block.header.receiptsRoot),
        receipt: bytesToHex(encoded[loc.index]!),
        receiptSiblings: receiptPath.siblings.map((s) => bytesToHex(s)),
      }
    },
  }
}
