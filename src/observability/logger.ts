/**
 * Structured JSON logs (pino), readable when the server runs in a terminal. Lines logged
 * while a request is being handled carry its request id, through AsyncLocalStorage, so a
 * resolver deep down needs no logger passed to it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

export type { Logger };

export const requestContext = new AsyncLocalStorage<{ reqId: string }>();

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
    mixin: () => {
      const ctx = requestContext.getStore();
      return ctx ? { reqId: ctx.reqId } : {};
    },
  };
  if (options.write) return pino(base, { write: options.write });
  if (options.pretty ?? process.stdout.isTTY) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service' } } });
  }
  return pino(base);
}
