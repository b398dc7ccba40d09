/**
 * Opaque pagination cursors: base64url of "<kind>:<part>:<part>...", where the parts are the
 * position of the last item of the previous page (a height, a tx index, a timestamp, a hash).
 * The kind ties a cursor to the list it came from, so a cursor of /v1/blocks handed to
 * /v1/txs is refused (400) instead of being misread. Clients must treat cursors as opaque.
 * @module
 */
import { badRequest } from './errors.ts'

export type CursorKind = 'blocks' | 'txs' | 'account-txs' | 'mempool'

/** Default and largest page sizes (the contract's ?limit=). */
export const DEFAULT_LIMIT = 20
export const MAX_LIMIT = 100

const PART = /^[0-9A-Za-z]{1,80}$/
const MAX_CURSOR_CHARS = 256

export function encodeCursor(kind: CursorKind, parts: ReadonlyArray<string | number | bigint>): string {
  const text = [kind, ...parts.map(String)].join(':')
  return Buffer.from(text, 'utf8').toString('base64url')
}

/** The parts of a cursor of `kind`; 400 BAD_REQUEST when it is not one. */
export function decodeCursor(kind: CursorKind, cursor: string, arity: number): string[] {
  const invalid = () => badRequest(`invalid cursor ${JSON.stringify(cursor.slice(0, 40))}: pass the nextCursor of a previous page of this list`)
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid()
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  // base64url decoding ignores junk silently: the round trip proves the cursor is canonical.
  if (Buffer.from(text, 'utf8').toString('base64url') !== cursor) throw invalid()
  const [k, ...parts] = text.split(':')
  if (k !== kind || parts.length !== arity || !parts.every((p) => PART.test(p))) throw invalid()
  return parts
}

/** A decimal part as a non-negative safe integer; 400 otherwise. */
export function cursorInt(part: string, cursor: string): number {
  const n = /^(0|[1-9][0-9]{0,15})$/.test(part) ? Number(part) : NaN
  if (!Number.isSafeInteger(n)) throw badRequest(`invalid cursor ${JSON.stringify(cursor.slice(0, 40))}: pass the nextCursor of a previous page of this list`)
  return n
}

/** A cursor holding one position (height, tx index) or undefined when absent. */
export function decodePosition(kind: CursorKind, cursor: string | undefined): { height: number; index: number } | undefined {
  if (cursor === undefined) return undefined
  const [h, i] = decodeCursor(kind, cursor, 2)
  return { height: cursorInt(h!, cursor), index: cursorInt(i!, cursor) }
}

export function encodePosition(kind: CursorKind, p: { height: number | bigint; index: number }): string {
  return encodeCursor(kind, [p.height, p.index])
}

/** A cursor holding one height, or undefined when absent. */
export function decodeHeight(kind: CursorKind, cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined
  const [h] = decodeCursor(kind, cursor, 1)
  return cursorInt(h!, cursor)
}
