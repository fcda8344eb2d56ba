/**
 * Structured JSON logs (pino), readable when the server runs in a terminal. Lines about a
 * request carry its id (`reqId`, from the GraphQL context). Not AsyncLocalStorage: on
 * Node 20 it installs promise hooks that cost every promise of every request, about a
 * tenth of a small mutation's server time.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Send each JSON line here instead of stdout (tests). */
  write?: (line: string) => void;
  /** Pretty-print (default: when stdout is a terminal). */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    base: { service: 'taskwire' },
  };
  if (options.write) return pino(base, { write: options.write });
  if (options.pretty ?? process.stdout.isTTY) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service' } } });
  }
  return pino(base);
}
