/**
 * `catena_getCommit(height)`: the commit certificate stored with a canonical block (the
 * precommits of more than 2/3 of the voting power that made it final) and the validator set
 * of that height, so a light client can check the block without trusting the node: each
 * signature recovers to its validator over the precommit digest, and the signers' power is
 * above 2/3 of the total.
 * @module
 */
import { bytesToHex } from '@ethereumjs/util'
import { blockHash } from '../../chain/block.ts'
import { decodeCertificate } from '../bft/index.ts'
import { EngineParamsError, type EngineHost } from '../types.ts'
import type { ValidatorSchedule } from './config.ts'

const hex = (n: bigint) => `0x${n.toString(16)}`

function parseHeight(param: unknown): bigint {
  if (typeof param === 'number' && Number.isSafeInteger(param) && param >= 0) return BigInt(param)
  if (typeof param === 'string' && /^0x(0|[1-9a-fA-F][0-9a-fA-F]{0,15})$/.test(param)) return BigInt(param)
  throw new EngineParamsError('give a block height (a number or a 0x quantity)')
}

export function commitView(host: Pick<EngineHost, 'blockAt' | 'proofOf'>, schedule: ValidatorSchedule, param: unknown) {
  const height = parseHeight(param)
  if (height === 0n) throw new EngineParamsError('the genesis block has no commit: consensus starts at height 1')
  const block = host.blockAt(height)
  if (!block) return null
  const hash = blockHash(block.header)
  const raw = host.proofOf(hash)
  if (!raw) return null
  const cert = decodeCertificate(raw)
  const set = schedule.at(height)
  let signedPower = 0n
  for (const s of cert.signatures) signedPower += set.get(s.validator)?.power ?? 0n
  return {
    height: hex(height),
    blockHash: bytesToHex(hash),
    round: cert.round,
    certificate: bytesToHex(raw),
    signatures: cert.signatures.map((s) => ({ validator: bytesToHex(s.validator), signature: bytesToHex(s.signature) })),
    validators: set.validators.map((v) => ({ address: bytesToHex(v.address), power: hex(v.power) })),
    totalPower: hex(set.totalPower),
    signedPower: hex(signedPower),
  }
}
