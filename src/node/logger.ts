/** pino logs: human-readable in a terminal, one JSON object per line otherwise. */
import pino, { type Logger } from 'pino'

export type LogFormat = 'pretty' | 'json'

export function createLogger(opts: { level?: string; format?: LogFormat; name?: string } = {}): Logger {
  const format = opts.format ?? (process.stdout.isTTY ? 'pretty' : 'json')
  const level = opts.level ?? 'info'
  if (format === 'pretty') {
    return pino({
      name: opts.name,
      level,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    })
  }
  return pino({ name: opts.name, level })
}
