/**
 * Server configuration from the environment, checked at start: each bad value gets a
 * message that names the variable and what it accepts.
 */
import { DEFAULTS, LIMITS } from './store/engine/defaults.js';
import { z } from 'zod';
import { parseDuration } from './duration.js';

const int = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max} (got "${v}")` });
        return z.NEVER;
      }
      return n;
    });

/** "1"/"true"/"0"/"false", or unset (undefined: the default applies). */
const flag = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      if (['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) return true;
      if (['0', 'false', 'no', 'off'].includes(v.toLowerCase())) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be 1 or 0 (got "${v}")` });
      return z.NEVER;
    });

const Synchronous = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const s = (v || 'normal').toLowerCase();
    if (s !== 'normal' && s !== 'full') {
      ctx.addIssue({ code: 'custom', message: `TASKWIRE_SYNC must be "normal" or "full" (got "${v}")` });
      return z.NEVER;
    }
    return s as 'normal' | 'full';
  });

const EnvSchema = z.object({
  PORT: int('PORT', 0, 65535, 4000),
  HOST: z.string().optional().transform((v) => v || '127.0.0.1'),
  TASKWIRE_DB: z.string().optional().transform((v) => v || DEFAULTS.dbPath),
  TASKWIRE_SYNC: Synchronous,
  TASKWIRE_LEASE_SECONDS: int('TASKWIRE_LEASE_SECONDS', 1, LIMITS.leaseSeconds, DEFAULTS.leaseSeconds),
  TASKWIRE_SWEEP_INTERVAL_MS: int('TASKWIRE_SWEEP_INTERVAL_MS', 50, 600_000, 1000),
  TASKWIRE_STALE_WORKER_SECONDS: int('TASKWIRE_STALE_WORKER_SECONDS', 1, 86_400, DEFAULTS.staleWorkerAfterMs / 1000),
  TASKWIRE_MAX_WAIT_SECONDS: int('TASKWIRE_MAX_WAIT_SECONDS', 0, 3600, 60),
  TASKWIRE_MAX_PAYLOAD_BYTES: int('TASKWIRE_MAX_PAYLOAD_BYTES', 1024, 64 * 1024 * 1024, DEFAULTS.maxPayloadBytes),
  TASKWIRE_MAX_BODY_BYTES: int('TASKWIRE_MAX_BODY_BYTES', 1024, 512 * 1024 * 1024, 8 * 1024 * 1024),
  TASKWIRE_SUBSCRIPTION_BUFFER: int('TASKWIRE_SUBSCRIPTION_BUFFER', 1, 1_000_000, 1000),
  TASKWIRE_MAX_SUBSCRIPTIONS: int('TASKWIRE_MAX_SUBSCRIPTIONS', 1, 100_000, 100),
  TASKWIRE_MAX_DEPTH: int('TASKWIRE_MAX_DEPTH', 2, 100, 12),
  NODE_ENV: z.string().optional(),
  TASKWIRE_INTROSPECTION: flag('TASKWIRE_INTROSPECTION'),
  TASKWIRE_GRAPHIQL: flag('TASKWIRE_GRAPHIQL'),
  TASKWIRE_ALLOW_OPEN: flag('TASKWIRE_ALLOW_OPEN'),
  TASKWIRE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  TASKWIRE_RETENTION: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return DEFAULTS.retentionMs;
      const ms = parseDuration(v);
      if (ms === null || ms < 60_000) {
        ctx.addIssue({ code: 'custom', message: `TASKWIRE_RETENTION must be a duration of a minute or more, like 7d or 12h (got "${v}")` });
        return z.NEVER;
      }
      return ms;
    }),
});

export interface ServerConfig {
  port: number;
  host: string;
  dbPath: string;
  synchronous: 'normal' | 'full';
  leaseSeconds: number;
  sweepIntervalMs: number;
  staleWorkerAfterMs: number;
  maxWaitSeconds: number;
  maxPayloadBytes: number;
  maxBodyBytes: number;
  subscriptionBuffer: number;
  maxSubscriptionsPerConnection: number;
  maxDepth: number;
  /** Off by default when NODE_ENV=production. */
  introspection: boolean;
  graphiql: boolean;
  /** Allow binding a non-loopback address while no token exists. */
  allowOpen: boolean;
  logLevel: string;
  /** Finished tasks older than this are removed by the server's upkeep. */
  retentionMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => i.message));
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dbPath: e.TASKWIRE_DB,
    synchronous: e.TASKWIRE_SYNC,
    leaseSeconds: e.TASKWIRE_LEASE_SECONDS,
    sweepIntervalMs: e.TASKWIRE_SWEEP_INTERVAL_MS,
    staleWorkerAfterMs: e.TASKWIRE_STALE_WORKER_SECONDS * 1000,
    maxWaitSeconds: e.TASKWIRE_MAX_WAIT_SECONDS,
    maxPayloadBytes: e.TASKWIRE_MAX_PAYLOAD_BYTES,
    maxBodyBytes: e.TASKWIRE_MAX_BODY_BYTES,
    subscriptionBuffer: e.TASKWIRE_SUBSCRIPTION_BUFFER,
    maxSubscriptionsPerConnection: e.TASKWIRE_MAX_SUBSCRIPTIONS,
    maxDepth: e.TASKWIRE_MAX_DEPTH,
    introspection: e.TASKWIRE_INTROSPECTION ?? e.NODE_ENV !== 'production',
    graphiql: e.TASKWIRE_GRAPHIQL ?? e.NODE_ENV !== 'production',
    allowOpen: e.TASKWIRE_ALLOW_OPEN ?? false,
    logLevel: e.TASKWIRE_LOG_LEVEL ?? 'info',
    retentionMs: e.TASKWIRE_RETENTION,
  };
}

/**
 * TASKWIRE_SYNC alone: the commands open the database with the server's durability, and
 * must not fail on server settings (PORT, ...) they do not use.
 */
export function loadSynchronous(env: Record<string, string | undefined> = process.env): ServerConfig['synchronous'] {
  const parsed = Synchronous.safeParse(env.TASKWIRE_SYNC);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => i.message));
  return parsed.data;
}

/** The settings table for the README; kept next to the schema it describes. */
export const CONFIG_DOCS: [string, string, string][] = [
  ['PORT', '4000', 'HTTP and WebSocket port'],
  ['HOST', '127.0.0.1', 'address to bind'],
  ['TASKWIRE_DB', DEFAULTS.dbPath, 'database file (its folder is created); `:memory:` for throwaway runs; or a `postgres://` URL (see Scale out on PostgreSQL)'],
  ['TASKWIRE_SYNC', 'normal', '`full` makes every commit survive power loss (slower)'],
  ['TASKWIRE_LEASE_SECONDS', String(DEFAULTS.leaseSeconds), 'default lease of a claim'],
  ['TASKWIRE_SWEEP_INTERVAL_MS', '1000', 'how often expired leases, timeouts and stale workers are swept'],
  ['TASKWIRE_STALE_WORKER_SECONDS', String(DEFAULTS.staleWorkerAfterMs / 1000), 'a worker silent this long becomes STALE'],
  ['TASKWIRE_MAX_WAIT_SECONDS', '60', 'longest long-poll of claimTasks(waitSeconds)'],
  ['TASKWIRE_MAX_PAYLOAD_BYTES', String(DEFAULTS.maxPayloadBytes), "largest task payload or result"],
  ['TASKWIRE_MAX_BODY_BYTES', '8388608', 'largest HTTP request body and WebSocket message'],
  ['TASKWIRE_SUBSCRIPTION_BUFFER', '1000', 'events a slow subscriber may fall behind before it is closed'],
  ['TASKWIRE_MAX_SUBSCRIPTIONS', '100', 'operations one WebSocket connection may run at once'],
  ['TASKWIRE_MAX_DEPTH', '12', 'deepest query accepted'],
  ['TASKWIRE_INTROSPECTION', '1 (0 when NODE_ENV=production)', 'schema introspection'],
  ['TASKWIRE_GRAPHIQL', '1 (0 when NODE_ENV=production)', 'GraphiQL at /graphql'],
  ['TASKWIRE_LOG_LEVEL', 'info', 'fatal, error, warn, info, debug, trace or silent'],
  ['TASKWIRE_RETENTION', '7d', 'finished tasks and outbox rows older than this are removed'],
  ['TASKWIRE_ALLOW_OPEN', '0', 'allow a non-loopback HOST while no token exists (access control off)'],
];
