/**
 * The node key: the private key behind this node's libp2p peer id, kept in <datadir>/node.key
 * so the peer id survives restarts (geth's nodekey). Created on first start as Ed25519, stored
 * as the hex of libp2p's protobuf key encoding (which names the key type), with mode 0600.
 * An existing file that does not hold a usable key is an error, never silently replaced:
 * replacing it would change the node's identity behind the operator's back.
 * @module
 */
import './polyfill.ts'
import { chmod, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { NetError } from './errors.ts'

export const NODE_KEY_FILE = 'node.key'

export interface LoadedNodeKey {
  key: PrivateKey
  path: string
  /** True when this call created the key. */
  created: boolean
  /** Set when the file is readable by group or others (the caller should warn). */
  looseMode?: number
}

function parseNodeKey(text: string, path: string): PrivateKey {
  const hex = text.trim().replace(/^0x/i, '')
  if (!/^[0-9a-f]+$/i.test(hex) || hex.length % 2 !== 0) {
    throw new NetError('BAD_NODE_KEY', `${path} does not hold a hex-encoded node key; move it away to create a new identity`)
  }
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(Buffer.from(hex, 'hex'))
  } catch (err) {
    throw new NetError('BAD_NODE_KEY', `${path} does not hold a valid node key: ${(err as Error).message}`)
  }
  if (key.type !== 'Ed25519' && key.type !== 'secp256k1') {
    throw new NetError('BAD_NODE_KEY', `${path} holds a ${key.type} key; node keys are Ed25519 or secp256k1`)
  }
  return key
}

/** Loads <datadir>/node.key, creating the datadir and a new Ed25519 key on first use. */
export async function loadOrCreateNodeKey(datadir: string): Promise<LoadedNodeKey> {
  const path = join(datadir, NODE_KEY_FILE)
  const existing = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw new NetError('BAD_NODE_KEY', `cannot read ${path}: ${err.message}`)
  })
  if (existing !== undefined) {
    const key = parseNodeKey(existing, path)
    const mode = (await stat(path)).mode & 0o777
    return { key, path, created: false, ...((mode & 0o077) !== 0 ? { looseMode: mode } : {}) }
  }

  const key = await generateKeyPair('Ed25519')
  try {
    return await writeNewKey(datadir, path, key)
  } catch (err) {
    if (err instanceof NetError) throw err
    throw new NetError('BAD_NODE_KEY', `cannot create ${path}: ${(err as Error).message}`)
  }
}

async function writeNewKey(datadir: string, path: string, key: PrivateKey): Promise<LoadedNodeKey> {
  await mkdir(datadir, { recursive: true })
  // Write a private temp file, then hard-link it into place: the key is never visible half
  // written, and if two processes race on one datadir the first link wins and both use it.
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`
  await writeFile(tmp, `${Buffer.from(privateKeyToProtobuf(key)).toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
  try {
    await chmod(tmp, 0o600) // the umask may have narrowed the mode further, never widened it; make it exact
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return loadOrCreateNodeKey(datadir)
  } finally {
    await rm(tmp, { force: true })
  }
  return { key, path, created: true }
}
