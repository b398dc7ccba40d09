/**
 * BIP-39 phrases as a person handles them: generated from secure randomness, checked word by
 * word with errors that say which word is wrong (not just "invalid mnemonic"), shown once in a
 * numbered frame, and confirmed by typing back words at random positions.
 *
 * Pure logic, no terminal: the CLI drives the prompts.
 * @module
 */
import { randomBytes as nodeRandomBytes, randomInt as nodeRandomInt } from 'node:crypto'
import { mnemonicToEntropy } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { mnemonicFromEntropy } from './hd.ts'

/** Word counts BIP-39 defines (128 to 256 bits of entropy). */
export const MNEMONIC_WORD_COUNTS = [12, 15, 18, 21, 24] as const
export type MnemonicWordCount = (typeof MNEMONIC_WORD_COUNTS)[number]

export type MnemonicErrorCode = 'EMPTY' | 'BAD_WORD_COUNT' | 'UNKNOWN_WORD' | 'BAD_CHECKSUM' | 'CONFIRMATION_FAILED'

/** A phrase that is not a valid BIP-39 mnemonic, or a wrong confirmation; `position` is 1-based. */
export class MnemonicError extends Error {
  readonly code: MnemonicErrorCode
  readonly position?: number
  constructor(code: MnemonicErrorCode, message: string, position?: number) {
    super(message)
    this.name = 'MnemonicError'
    this.code = code
    this.position = position
  }
}

const WORDS = new Set(wordlist)

/** A new English mnemonic of `words` words from `randomBytes` (node's CSPRNG by default). */
export function generateMnemonic(words: MnemonicWordCount = 24, randomBytes: (n: number) => Uint8Array = nodeRandomBytes): string {
  if (!MNEMONIC_WORD_COUNTS.includes(words)) {
    throw new MnemonicError('BAD_WORD_COUNT', `a mnemonic has ${MNEMONIC_WORD_COUNTS.join(', ')} words, not ${String(words)}`)
  }
  const entropy = randomBytes((words / 3) * 4) // 12 words = 128 bits = 16 bytes
  try {
    return mnemonicFromEntropy(entropy)
  } finally {
    entropy.fill(0)
  }
}

/** The words of a phrase as typed: Unicode NFKD (as BIP-39 says), lower case, any whitespace. */
export function mnemonicWords(text: string): string[] {
  return text.normalize('NFKD').toLowerCase().trim().split(/\s+/).filter((w) => w.length > 0)
}

/** Wordlist entries a mistyped word may have meant: BIP-39 words are unique in their first 4 letters. */
export function suggestWords(word: string, max = 3): string[] {
  for (let len = Math.min(4, word.length); len >= 2; len--) {
    const prefix = word.slice(0, len)
    const hits = wordlist.filter((w) => w.startsWith(prefix))
    if (hits.length > 0) return hits.slice(0, max)
  }
  return []
}

/**
 * Checks a phrase and returns it normalized (single spaces, lower case). Errors name the
 * problem: how many words there are, which word is not in the list (position and word), or
 * that the checksum fails (a word is wrong or the order is).
 */
export function validateMnemonicPhrase(text: string): string {
  const words = mnemonicWords(text)
  if (words.length === 0) throw new MnemonicError('EMPTY', 'the mnemonic is empty')
  if (!(MNEMONIC_WORD_COUNTS as readonly number[]).includes(words.length)) {
    throw new MnemonicError(
      'BAD_WORD_COUNT',
      `the mnemonic has ${words.length} word${words.length === 1 ? '' : 's'}; a BIP-39 mnemonic has ${MNEMONIC_WORD_COUNTS.join(', ')} words`,
    )
  }
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!
    if (!WORDS.has(word)) {
      const hints = suggestWords(word)
      const hint = hints.length > 0 ? ` (did you mean ${hints.map((h) => `"${h}"`).join(' or ')}?)` : ''
      throw new MnemonicError('UNKNOWN_WORD', `unknown word "${word}" at position ${i + 1}: not in the BIP-39 English wordlist${hint}`, i + 1)
    }
  }
  const phrase = words.join(' ')
  try {
    mnemonicToEntropy(phrase, wordlist)
  } catch {
    throw new MnemonicError(
      'BAD_CHECKSUM',
      `bad checksum: all ${words.length} words are in the wordlist but the last one does not match the others (a word is wrong or two are swapped)`,
    )
  }
  return phrase
}

/** `count` distinct 1-based positions in a phrase of `wordCount` words, ascending, chosen at random. */
export function pickConfirmationPositions(
  wordCount: number,
  count = 2,
  randomInt: (max: number) => number = (max) => nodeRandomInt(max),
): number[] {
  if (!Number.isInteger(count) || count < 1 || count > wordCount) throw new RangeError(`cannot pick ${count} of ${wordCount} positions`)
  const picked = new Set<number>()
  while (picked.size < count) picked.add(randomInt(wordCount) + 1)
  return [...picked].sort((a, b) => a - b)
}

/**
 * Checks the words typed back at `positions` (1-based). Case and surrounding spaces do not
 * matter. A wrong answer is CONFIRMATION_FAILED naming the position, never the right word.
 */
export function checkConfirmation(phrase: string, positions: readonly number[], answers: readonly string[]): void {
  const words = mnemonicWords(phrase)
  positions.forEach((pos, i) => {
    const typed = (answers[i] ?? '').normalize('NFKD').trim().toLowerCase()
    if (typed !== words[pos - 1]) {
      throw new MnemonicError(
        'CONFIRMATION_FAILED',
        `word #${pos} does not match the mnemonic that was shown: nothing was written; run the command again to get a new mnemonic`,
        pos,
      )
    }
  })
}

/** The phrase in a numbered grid inside a frame, with the warning to write it down. */
export function formatMnemonicForDisplay(phrase: string, columns = 4): string {
  const words = mnemonicWords(phrase)
  const cells = words.map((w, i) => `${String(i + 1).padStart(2)}. ${w.padEnd(8)}`)
  const rows: string[] = []
  for (let i = 0; i < cells.length; i += columns) rows.push(cells.slice(i, i + columns).join('   '))
  const lines = [
    'YOUR RECOVERY PHRASE (BIP-39, shown only this once)',
    '',
    ...rows,
    '',
    'Write these words down on paper, in order, and keep them offline.',
    'Anyone who has them controls the funds; without them a lost key is lost for good.',
  ]
  const width = Math.max(...lines.map((l) => l.length))
  const bar = `+${'-'.repeat(width + 2)}+`
  return [bar, ...lines.map((l) => `| ${l.padEnd(width)} |`), bar].join('\n')
}
