/**
 * PostgreSQL connections: the URL and its settings, the pool, and what every session sets
 * before its first statement.
 *
 * Settings come from the URL's query string, so that one value (TASKWIRE_DB, --db) says
 * everything:  postgres://user@host:5432/db?schema=taskwire&pool=10&statement_timeout=30s
 * The driver's own keys are taken out before the URL reaches node-postgres.
 */
import pg from 'pg';
import { parseDuration } from '../../duration.js';
import { TaskwireError } from '../errors.js';
import { isConnectionFailure } from './errors.js';

export interface PostgresSettings {
  /** The connection URL without Taskwire's own query keys. */
  url: string;
  /** The same with the password masked: what /health and the logs show. */
  displayUrl: string;
  /** Schema that holds Taskwire's tables (created if missing). */
  schema: string;
  /** Connections in the pool (one more is kept for LISTEN). */
  poolSize: number;
  /** statement_timeout of every session, ms; 0 turns it off. */
  statementTimeoutMs: number;
  /** idle_in_transaction_session_timeout, ms: a stuck transaction holds locks no longer than this. */
  idleInTransactionTimeoutMs: number;
  /**
   * How often the event feed looks for other instances' rows without a wake-up, ms (key
   * feed_poll); 0: never, other instances' events then come by LISTEN/NOTIFY alone (the
   * fault tests use it to show that the listener, not the timer, delivers them).
   */
  feedPollMs: number;
}

export const POSTGRES_DEFAULTS = {
  schema: 'taskwire',
  poolSize: 10,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
  feedPollMs: 250,
} as const;

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

const bad = (message: string) => new TaskwireError('VALIDATION', message, { field: 'database' });

function durationMs(key: string, raw: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) : parseDuration(raw);
  if (ms === null || !Number.isFinite(ms) || ms < 0) throw bad(`${key} must be a duration like 30s or a number of ms (got "${raw}")`);
  return ms;
}

/** Reads a postgres:// URL and Taskwire's keys in its query string; a bad value names itself. */
export function parsePostgresUrl(location: string): PostgresSettings {
  let u: URL;
  try {
    u = new URL(location);
  } catch {
    throw bad('the PostgreSQL URL is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  const take = (key: string): string | null => {
    const v = u.searchParams.get(key);
    u.searchParams.delete(key);
    return v;
  };
  const schema = take('schema') ?? POSTGRES_DEFAULTS.schema;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw bad(`schema must be a lower-case SQL name (letters, digits, _), got "${schema}"`);
  const poolRaw = take('pool');
  const poolSize = poolRaw === null ? POSTGRES_DEFAULTS.poolSize : Number(poolRaw);
  // Two at least: a singleton job holds one connection for its lock while its writes use another.
  if (!Number.isInteger(poolSize) || poolSize < 2 || poolSize > 1000) throw bad(`pool must be a whole number from 2 to 1000 (got "${poolRaw}")`);
  const st = take('statement_timeout');
  const it = take('idle_in_transaction_timeout');
  const fp = take('feed_poll');
  const url = u.toString();
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return {
    url,
    displayUrl: shown.toString(),
    schema,
    poolSize,
    statementTimeoutMs: st === null ? POSTGRES_DEFAULTS.statementTimeoutMs : durationMs('statement_timeout', st),
    idleInTransactionTimeoutMs: it === null ? POSTGRES_DEFAULTS.idleInTransactionTimeoutMs : durationMs('idle_in_transaction_timeout', it),
    feedPollMs: fp === null ? POSTGRES_DEFAULTS.feedPollMs : durationMs('feed_poll', fp),
  };
}

/**
 * bigint (int8) and numeric counts as JavaScript numbers: ids, times in ms and counts all
 * stay far below 2^53, and one above it would be a bug worth failing on.
 */
function int8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new TaskwireError('STORAGE', `a 64-bit value (${text}) is beyond what JavaScript holds exactly`);
  return n;
}

const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20) return int8;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** What each session sets: the schema first, then the timeouts that bound locks and stuck transactions. */
export function sessionSql(s: PostgresSettings): string {
  return [
    `SET search_path TO ${quoteIdent(s.schema)}`,
    `SET statement_timeout = ${s.statementTimeoutMs}`,
    `SET idle_in_transaction_session_timeout = ${s.idleInTransactionTimeoutMs}`,
  ].join('; ');
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Pipeline mode: statements issued without waiting for the previous answer go out at
 * once (the driver sends BEGIN with a unit's first statement, and its outbox INSERT with
 * COMMIT). Statements the driver awaits one by one run exactly as without it.
 */
export function clientConfig(s: PostgresSettings): pg.ClientConfig {
  return { connectionString: s.url, types, keepAlive: true, connectionTimeoutMillis: 5000, pipeline: true };
}

/**
 * The pool, and the one way to a connection: every client runs the session settings
 * (sessionSql) once, awaited, before its first statement. (Not as startup parameters:
 * PgBouncer refuses those.)
 */
export class Connections {
  readonly pool: pg.Pool;
  private readonly session: string;
  private readonly ready = new WeakSet<pg.PoolClient>();

  constructor(settings: PostgresSettings, onIdleError: (e: Error) => void) {
    this.pool = new pg.Pool({ ...clientConfig(settings), max: settings.poolSize, idleTimeoutMillis: 30_000 });
    this.session = sessionSql(settings);
    // An idle client whose connection broke (a server restart): the pool drops it.
    this.pool.on('error', onIdleError);
  }

  async acquire(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    if (!this.ready.has(client)) {
      // The pool listens for 'error' only on idle clients. A checked-out client whose
      // server goes away between two statements (a shutdown's FATAL 57P01 read in the same
      // chunk as the last ReadyForQuery; singleton()'s lock connection while its job runs)
      // emits 'error' with no listener: an uncaught exception that killed the whole server
      // on a PostgreSQL restart (test/postgres/faults.test.ts). Swallowed here: pg marks the
      // client not queryable, so its next statement fails as a connection failure
      // (UNAVAILABLE) and the release drops it.
      client.on('error', () => {});
      try {
        await client.query(this.session);
      } catch (e) {
        client.release(e as Error);
        throw e;
      }
      this.ready.add(client);
    }
    return client;
  }

  /** One statement on any connection. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(config: pg.QueryConfig | string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = await this.acquire();
    let broken: Error | undefined;
    try {
      return await client.query<R>(typeof config === 'string' ? { text: config, values } : config);
    } catch (e) {
      if (isConnectionFailure(e)) broken = e as Error;
      throw e;
    } finally {
      client.release(broken);
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** A stable 64-bit advisory lock key for a name, scoped to the schema (two schemas never share one). */
export const lockKeySql = (param: string) => `hashtextextended(current_schema() || ':' || ${param}, 0)`;
