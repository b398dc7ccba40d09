/**
 * The light client's datadir: the best chain of verified headers, kept across restarts. It is
 * not trusted either: loading re-checks every header from the checkpoint up with the same
 * rules (PoW: cheap, a double SHA-256 each), and stops at the first that fails or is missing.
 * Headers proven by more than themselves (BFT certificates) were proven when written; loading
 * re-checks their hash links and header rules (their certificates would need the network).
 *
 *   'G'                  the genesis hash (a datadir of another chain is refused)
 *   'C'                  the checkpoint's hash when it is not genesis (a new one starts the headers afresh)
 *   'n' + height(8)      the RLP header of the best chain at that height
 *   'H'                  the highest height written (8 bytes)
 * @module
 */
import { join } from 'node:path'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { decodeHeader, encodeHeader, type BlockHeader } from '../../chain/block.ts'
import { heightKey, LevelStore, type BatchOp } from '../../storage/index.ts'
import type { LightHeaderChain } from './header-chain.ts'

const GENESIS = Uint8Array.of(0x47)
const CHECKPOINT = Uint8Array.of(0x43)
const TOP = Uint8Array.of(0x48)
const at = (h: bigint) => Uint8Array.of(0x6e, ...heightKey(h))
const LOAD_BATCH = 1000

export class LightHeaderStore {
  private saved = -1n

  private constructor(private readonly db: LevelStore) {}

  static async open(datadir: string, genesis: Uint8Array, checkpoint: Uint8Array): Promise<LightHeaderStore> {
    const db = await LevelStore.open(join(datadir, 'light-headers'))
    const stored = db.get(GENESIS)
    if (stored && !equalsBytes(stored, genesis)) {
      await db.close()
      throw new Error(`${datadir} holds the headers of another chain (genesis ${bytesToHex(stored)}, not ${bytesToHex(genesis)}); use another --datadir`)
    }
    const ops: BatchOp[] = []
    if (!stored) ops.push({ type: 'put', key: GENESIS, value: genesis })
    const from = db.get(CHECKPOINT) ?? genesis
    if (!equalsBytes(from, checkpoint)) {
      // A renewed checkpoint: the headers kept start from the old one, so they start afresh.
      ops.push({ type: 'put', key: CHECKPOINT, value: checkpoint }, { type: 'del', key: TOP })
    }
    if (ops.length > 0) await db.batch(ops)
    return new LightHeaderStore(db)
  }

  /** Re-verifies the stored headers into `chain`; returns how many it took. */
  load(chain: LightHeaderChain): number {
    const top = this.db.get(TOP)
    if (!top) return 0
    const last = BigInt('0x' + Buffer.from(top).toString('hex'))
    let taken = 0
    let height = chain.checkpoint.header.height + 1n
    while (height <= last) {
      const batch: BlockHeader[] = []
      for (; height <= last && batch.length < LOAD_BATCH; height++) {
        const raw = this.db.get(at(height))
        if (!raw) break
        batch.push(decodeHeader(raw))
      }
      if (batch.length === 0) break
      try {
        taken += (chain.checksAlone ? chain.add(batch) : chain.extendFinal(batch)).added
      } catch {
        break // a header that no longer checks (a changed spec, a damaged file): sync fetches the rest again
      }
      if (batch.length < LOAD_BATCH) break
    }
    this.saved = chain.head.header.height
    return taken
  }

  /** Writes the best chain above what was saved (from the fork point after a branch switch). */
  async save(chain: LightHeaderChain): Promise<void> {
    const head = chain.head.header.height
    let from = this.saved + 1n
    // A branch switch below what was saved: rewrite from where the stored chain left the best one.
    while (from > chain.checkpoint.header.height + 1n) {
      const stored = this.db.get(at(from - 1n))
      const best = chain.at(from - 1n)
      if (stored && best && equalsBytes(stored, encodeHeader(best.header))) break
      from--
    }
    if (from > head && this.saved === head) return
    const ops: BatchOp[] = []
    for (let h = from; h <= head; h++) ops.push({ type: 'put', key: at(h), value: encodeHeader(chain.at(h)!.header) })
    for (let h = head + 1n; h <= this.saved; h++) ops.push({ type: 'del', key: at(h) })
    ops.push({ type: 'put', key: TOP, value: heightKey(head) })
    await this.db.batch(ops)
    this.saved = head
  }

  close(): Promise<void> {
    return this.db.close()
  }
}
