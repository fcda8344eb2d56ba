/**
 * The PostgreSQL driver. Each write is one transaction on a connection of the pool; the
 * unit's operations are awaited one after another inside it (engine/unit.ts runAsync).
 * Transactions run side by side, on this instance and on others: the guards and lock
 * operations of the seam (driver.ts) are what keep them correct, not a single writer.
 *
 * Isolation is READ COMMITTED: each statement sees what was committed before it began,
 * and a row a statement waited for is re-checked against its WHERE after the wait.
 */
import type pg from 'pg';
import { EventBus } from '../../events/bus.js';
import type { Driver, LeaseRef, NewEvent, WriteMode } from '../driver.js';
import { runAsync, type Unit } from '../engine/unit.js';
import { TaskwireError } from '../errors.js';
import type { Maintenance, StoreInfo } from '../types.js';
import { Connections, lockKeySql, parsePostgresUrl, type PostgresSettings } from './connection.js';
import { describeOpenFailure, isConnectionFailure, mapPgError } from './errors.js';
import { PgFeed } from './feed.js';
import { postgresMaintenance } from './maintenance.js';
import { LATEST_SCHEMA_VERSION, migrate } from './migrations/index.js';
import { adminQueries } from './queries/admin.js';
import { claimQueries } from './queries/claim.js';
import { insertEvents, outboxQueries } from './queries/outbox.js';
import { readQueries } from './queries/reads.js';
import { scheduleQueries } from './queries/schedules.js';
import { taskQueries } from './queries/tasks.js';
import { workerQueries } from './queries/workers.js';
import type { Tx, TxOps } from './tx.js';

export interface PostgresDriverOptions {
  /** postgres://… with Taskwire's keys in the query string (connection.ts). */
  url: string;
  bus?: EventBus;
  /** How often the feed looks for other instances' rows without a wake-up (ms); 0: never. Default: the URL's feed_poll (250). */
  feedPollMs?: number;
  /** LISTEN for other instances' wake-ups (default true). */
  listen?: boolean;
  onStorageError?: (error: TaskwireError) => void;
  onBackgroundError?: (message: string) => void;
}

const QUERIES: TxOps = {
  ...taskQueries,
  ...claimQueries,
  ...workerQueries,
  ...scheduleQueries,
  ...adminQueries,
  ...outboxQueries,
  ...readQueries,
};

/**
 * Runs `submit` (which sends statements synchronously, as node-postgres does in pipeline
 * mode) with the connection's socket corked: its statements leave in one write.
 */
function corked<T>(client: pg.PoolClient, submit: () => T): T {
  const stream = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
  stream?.cork?.();
  try {
    return submit();
  } finally {
    stream?.uncork?.();
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  return x.every((v, i) => v === y[i]);
}

/** Background work waits for a row lock only briefly; BUSY means "next tick". */
const BEGIN_BACKGROUND = `BEGIN; SET LOCAL lock_timeout = 100`;

export class PostgresDriver implements Driver {
  readonly bus: EventBus;
  readonly maintenance: Maintenance;
  readonly feed: PgFeed;
  private closed = false;

  private constructor(
    readonly info: StoreInfo,
    readonly db: Connections,
    readonly settings: PostgresSettings,
    bus: EventBus,
    private readonly options: PostgresDriverOptions,
  ) {
    this.bus = bus;
    const onError = options.onBackgroundError ?? (() => {});
    this.feed = new PgFeed(db, settings, bus, { pollIntervalMs: options.feedPollMs ?? settings.feedPollMs, listen: options.listen ?? true, onError });
    this.maintenance = postgresMaintenance(db, (fn) => this.guard(fn));
  }

  /** Connects, migrates the schema (once across instances) and starts the feed. */
  static async open(options: PostgresDriverOptions): Promise<PostgresDriver> {
    const settings = parsePostgresUrl(options.url);
    const db = new Connections(settings, (e) => options.onBackgroundError?.(`idle database connection lost: ${e.message}`));
    let info: StoreInfo;
    try {
      const client = await db.acquire();
      try {
        const version = await migrate(client, settings.schema);
        // SHOW names its column after the setting (server_version), not v: read it as v.
        const { rows } = await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
        info = {
          kind: 'postgres',
          location: settings.displayUrl,
          schemaVersion: version,
          latestSchemaVersion: LATEST_SCHEMA_VERSION,
          settings: {
            schema: settings.schema,
            pool_size: settings.poolSize,
            statement_timeout_ms: settings.statementTimeoutMs,
            idle_in_transaction_timeout_ms: settings.idleInTransactionTimeoutMs,
            feed_poll_ms: options.feedPollMs ?? settings.feedPollMs,
            server_version: rows[0]!.v,
          },
        };
      } finally {
        client.release();
      }
    } catch (e) {
      await db.end().catch(() => {});
      if (e instanceof TaskwireError) throw e;
      const where = new URL(settings.displayUrl);
      throw new TaskwireError('UNAVAILABLE', describeOpenFailure(e, `${where.host}${where.pathname}`), { field: 'database' });
    }
    const driver = new PostgresDriver(info, db, settings, options.bus ?? new EventBus(), options);
    await driver.feed.start();
    return driver;
  }

  async write<T>(unit: Unit<T>, mode: WriteMode = 'grouped'): Promise<T> {
    const client = await this.connect();
    const tx: Tx = { db: client, events: [] };
    let broken: Error | undefined;
    let result: T;
    try {
      // Pipelined (connection.ts): BEGIN goes out with the unit's first statement, and
      // the outbox INSERT with COMMIT, two round trips fewer per write. A failed INSERT
      // makes the COMMIT a rollback; Promise.all observes both answers either way.
      // Each pair is corked into one socket write (one syscall, not two).
      const [, value] = await Promise.all(corked(client, () => [client.query(mode === 'background' ? BEGIN_BACKGROUND : 'BEGIN'), this.run(unit, tx)] as const));
      result = value;
      if (tx.events.length > 0) await Promise.all(corked(client, () => [insertEvents(client, tx.events), client.query('COMMIT')]));
      else await client.query('COMMIT');
    } catch (e) {
      if (isConnectionFailure(e)) broken = e as Error;
      else await client.query('ROLLBACK').catch((r: Error) => (broken = r));
      throw this.storageError(e);
    } finally {
      client.release(broken);
    }
    // The caller hears back once its events are on the bus, as with SQLite.
    if (tx.events.length > 0) await this.feed.committed();
    return result;
  }

  read<T>(unit: Unit<T>): Promise<T> {
    return this.guard(() => this.run(unit, { db: this.db, events: [] }));
  }

  /** The job runs unless another instance holds its lock (a session lock on a connection of its own). */
  async singleton<T>(name: string, job: () => Promise<T>): Promise<T | null> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${lockKeySql('$1')}) AS ok`, [`job:${name}`]);
      if (!rows[0]!.ok) return null;
      try {
        return await job();
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${lockKeySql('$1')})`, [`job:${name}`]).catch((e: Error) => (broken = e));
      }
    } catch (e) {
      if (isConnectionFailure(e)) broken = e as Error;
      throw this.storageError(e);
    } finally {
      client.release(broken);
    }
  }

  pollFeed(): Promise<void> {
    return this.feed.sync();
  }

  private run<T>(unit: Unit<T>, tx: Tx): Promise<T> {
    let depth = 0;
    // A completion's look-up of blocked dependents, sent with its UPDATE (see below).
    let ahead: { ids: readonly number[]; rows: Promise<number[]> } | null = null;
    const invoke = (op: keyof TxOps, args: readonly unknown[]): Promise<unknown> => {
      if (op === 'appendEvent') return outboxQueries.appendEvent(tx, args[0] as NewEvent);
      const sent = ahead;
      ahead = null;
      if (op === 'lockBlockedDependents' && sent && sameIds(sent.ids, args[0] as readonly number[])) return sent.rows;
      if (op !== 'finishIfLeased') return (QUERIES[op] as (tx: Tx, ...a: readonly unknown[]) => Promise<unknown>)(tx, ...args);
      // complete() follows finishIfLeased with lockBlockedDependents of the same tasks
      // (engine/ops/leases.ts), with nothing in between but appendEvent. Pipelined right
      // behind the UPDATE, the SELECT still starts only after the UPDATE has locked the
      // rows (statements of a connection run in order), as the guard relies on; one round
      // trip fewer. Unused (a lease missed: the unit throws and the transaction rolls
      // back), its answer is dropped.
      const refs = args[0] as readonly LeaseRef[];
      const ids = refs.map((r) => r.taskId);
      return corked(tx.db as pg.PoolClient, () => {
        const done = QUERIES.finishIfLeased(tx, refs, args[1] as readonly (string | null)[], args[2] as number);
        const rows = QUERIES.lockBlockedDependents(tx, ids);
        rows.catch(() => {});
        ahead = { ids, rows };
        return done;
      });
    };
    const nest = async (inner: Unit<unknown>): Promise<unknown> => {
      ahead = null;
      const name = `sp${++depth}`;
      const mark = tx.events.length;
      await tx.db.query({ text: `SAVEPOINT ${name}` });
      try {
        const value = await runAsync(inner, invoke, nest);
        await tx.db.query({ text: `RELEASE SAVEPOINT ${name}` });
        return value;
      } catch (e) {
        await tx.db.query({ text: `ROLLBACK TO SAVEPOINT ${name}` });
        tx.events.length = mark;
        throw e;
      }
    };
    return runAsync(unit, invoke, nest);
  }

  private async connect(): Promise<pg.PoolClient> {
    if (this.closed) throw new TaskwireError('STORAGE', 'the store is closed');
    try {
      return await this.db.acquire();
    } catch (e) {
      throw this.storageError(e);
    }
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new TaskwireError('STORAGE', 'the store is closed');
    try {
      return await fn();
    } catch (e) {
      throw this.storageError(e);
    }
  }

  private storageError(e: unknown): unknown {
    const mapped = mapPgError(e);
    if (mapped instanceof TaskwireError && (mapped.code === 'BUSY' || mapped.code === 'STORAGE' || mapped.code === 'UNAVAILABLE')) {
      this.options.onStorageError?.(mapped);
    }
    return mapped;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Events of writes that committed are published before the feed stops.
    await this.feed.sync();
    await this.feed.stop();
    this.closed = true;
    await this.db.end();
  }
}
