/**
 * The SQLite driver. Every write is one BEGIN IMMEDIATE transaction: the write lock is
 * taken up front, so a transaction never fails half-way on a lock upgrade, and SQLite's
 * busy timeout queues writers from other processes. Units run synchronously inside it
 * (engine/unit.ts), so nothing else on this connection runs in the middle of one.
 */
import { EventBus } from '../../events/bus.js';
import type { Driver, Ops, WriteMode } from '../driver.js';
import { runSync, type Unit } from '../engine/unit.js';
import { TaskwireError } from '../errors.js';
import type { Maintenance, StoredEvent, StoreInfo } from '../types.js';
import { CheckpointThread } from './checkpointer.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { mapSqliteError } from './errors.js';
import { OutboxFeed } from './feed.js';
import { sqliteMaintenance } from './maintenance.js';
import { LATEST_SCHEMA_VERSION } from './migrations/index.js';
import { adminOps } from './queries/admin.js';
import { claimOps } from './queries/claim.js';
import { lastEventId, outboxOps, type OutboxWriter } from './queries/outbox.js';
import { readOps } from './queries/reads.js';
import { scheduleOps } from './queries/schedules.js';
import { taskOps } from './queries/tasks.js';
import { workerOps } from './queries/workers.js';
import { Statements } from './statements.js';

export interface SqliteDriverOptions {
  /** File path or ':memory:'. */
  path: string;
  synchronous?: 'normal' | 'full';
  busyTimeoutMs?: number;
  quickCheck?: boolean;
  /** Called with every SQL statement run (tests count statements with it). */
  trace?: (sql: string) => void;
  bus?: EventBus;
  /** How often to look for outbox rows written by other processes; 0 turns following off. */
  tailIntervalMs?: number;
  /** Told about every coded storage failure (BUSY, STORAGE): metrics count them. */
  onStorageError?: (error: TaskwireError) => void;
  /**
   * Checkpoint the WAL from a worker thread every this many ms instead of inside commits
   * (see checkpointer.ts); the server uses it. Default: SQLite's automatic checkpoint.
   */
  checkpointThreadMs?: number;
  /** Told when a background checkpoint fails (the server logs it; the next one tries again). */
  onCheckpointError?: (message: string) => void;
}

/** How often outbox rows of other processes are looked for, by default (ms). */
const TAIL_INTERVAL_MS = 20;
/** How long background work waits for the write lock (ms). */
const BACKGROUND_BUSY_MS = 100;

interface QueuedWrite {
  unit: Unit<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class SqliteDriver implements Driver {
  readonly info: StoreInfo;
  readonly maintenance: Maintenance;
  readonly bus: EventBus;
  readonly db: SqliteDatabase;
  /** The checkpoint thread, when checkpoints run off the event loop. */
  readonly checkpoints: CheckpointThread | null = null;

  private readonly ops: Ops;
  /** Holds a unit's outbox rows and writes them together (queries/outbox.ts). */
  private readonly outbox: OutboxWriter;
  private readonly feed: OutboxFeed;
  private readonly runInTransaction: ((fn: () => unknown) => unknown) & { immediate: (fn: () => unknown) => unknown };
  /** Writes waiting for the next group commit (see writeSoon). */
  private queued: QueuedWrite[] = [];
  /** Outbox rows written by the transaction in progress; published after it commits. */
  private pending: StoredEvent[] = [];
  private closed = false;
  private readonly busyTimeoutMs: number;
  private readonly onStorageError: ((error: TaskwireError) => void) | undefined;

  constructor(options: SqliteDriverOptions) {
    this.onStorageError = options.onStorageError;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const opened = openDatabase(options);
    this.db = opened.db;
    this.info = { kind: 'sqlite', location: opened.path, schemaVersion: opened.schemaVersion, latestSchemaVersion: LATEST_SCHEMA_VERSION, settings: opened.pragmas };
    this.maintenance = sqliteMaintenance(this.db, opened.path, (fn) => this.guard(fn), (fn) => this.guard(() => this.briefly(fn)));
    const sql = new Statements(this.db);
    this.outbox = outboxOps(sql, (e) => this.pending.push(e));
    this.ops = {
      ...taskOps(sql),
      ...claimOps(sql),
      ...workerOps(sql),
      ...scheduleOps(sql),
      ...adminOps(sql),
      ...this.outbox.ops,
      ...readOps(sql),
    };
    const tx = this.db.transaction((fn: () => unknown) => fn());
    this.runInTransaction = tx as unknown as SqliteDriver['runInTransaction'];
    this.bus = options.bus ?? new EventBus();
    this.bus.startAt(lastEventId(sql));
    this.feed = new OutboxFeed(sql, this.bus);
    const inMemory = opened.path === ':memory:';
    if (options.checkpointThreadMs && !inMemory) {
      this.db.pragma('wal_autocheckpoint = 0');
      this.info.settings.wal_autocheckpoint = 0;
      this.checkpoints = new CheckpointThread(opened.path, options.checkpointThreadMs, (message) => options.onCheckpointError?.(message));
    }
    const tailMs = options.tailIntervalMs ?? TAIL_INTERVAL_MS;
    if (tailMs > 0 && !inMemory) this.feed.follow(tailMs);
  }

  write<T>(unit: Unit<T>, mode: WriteMode = 'grouped'): Promise<T> {
    if (mode === 'grouped') return this.writeSoon(unit);
    try {
      return Promise.resolve(this.background(unit));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  read<T>(unit: Unit<T>): Promise<T> {
    try {
      return Promise.resolve(this.guard(() => this.run(unit)));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** One SQLite file has one writer at a time, and every job's writes are guarded. */
  singleton<T>(_name: string, job: () => Promise<T>): Promise<T | null> {
    return job();
  }

  pollFeed(): Promise<void> {
    if (!this.closed) this.feed.poll();
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- running units

  /**
   * Steps a unit on this connection; a nested unit runs in a savepoint. The outbox rows
   * the unit appended are written when it ends, inside its transaction or savepoint, and
   * dropped when it throws.
   */
  private run<T>(unit: Unit<T>): T {
    let value: T;
    try {
      value = runSync(unit, this.ops, this.nest);
      this.outbox.flush();
    } catch (e) {
      this.outbox.discard();
      throw e;
    }
    return value;
  }

  private readonly nest = (unit: Unit<unknown>): unknown => {
    // The enclosing unit's rows so far are written outside the savepoint: rolling it back
    // must not take them.
    this.outbox.flush();
    const mark = this.pending.length;
    try {
      // A transaction function called inside a transaction runs as a savepoint.
      return this.runInTransaction(() => this.run(unit));
    } catch (e) {
      this.pending.length = mark;
      throw e;
    }
  };

  /**
   * Group commit: queues the unit and runs it, with every other write queued in the same
   * turn of the event loop, in one BEGIN IMMEDIATE transaction; the promise settles after
   * the COMMIT. Requests that arrive together (many clients, many sockets) then share one
   * commit, which is most of the cost of a small write. Each write still succeeds or fails
   * alone: when several share a transaction, each runs in its own savepoint, and one that
   * throws is rolled back to it (its outbox rows with it) while the others commit.
   */
  private writeSoon<T>(unit: Unit<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TaskwireError('STORAGE', 'the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ unit: unit as Unit<unknown>, resolve: resolve as (value: unknown) => void, reject });
      // setImmediate, not a microtask: it runs after the poll phase has read every socket
      // that was ready, so the writes of all the requests that came in together are queued.
      if (this.queued.length === 1) setImmediate(this.flushQueued);
    });
  }

  private readonly flushQueued = (): void => {
    const writes = this.queued;
    if (writes.length === 0) return;
    this.queued = [];
    if (writes.length === 1) {
      const w = writes[0]!;
      let value: unknown;
      try {
        value = this.commit(() => this.run(w.unit));
      } catch (e) {
        w.reject(e);
        return;
      }
      w.resolve(value);
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.commit(() => {
        for (const w of writes) {
          const mark = this.pending.length;
          try {
            outcomes.push({ ok: true, value: this.runInTransaction(() => this.run(w.unit)) });
          } catch (e) {
            // SQLite may have rolled back the whole transaction itself (disk full, I/O):
            // then every write of the group fails, as a lone write would have.
            if (!this.db.inTransaction) throw e;
            this.pending.length = mark;
            outcomes.push({ ok: false, value: e });
          }
        }
      });
    } catch (e) {
      for (const w of writes) w.reject(e);
      return;
    }
    writes.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.value);
      else w.reject(this.storageError(o.value));
    });
  };

  /** Runs `fn` in one BEGIN IMMEDIATE transaction, then publishes the events it wrote. */
  private commit<T>(fn: () => T): T {
    if (this.closed) throw new TaskwireError('STORAGE', 'the store is closed');
    this.pending = [];
    let result: T;
    try {
      result = this.runInTransaction.immediate(fn) as T;
    } catch (e) {
      this.pending = [];
      throw this.storageError(e);
    }
    const events = this.pending;
    this.pending = [];
    this.feed.publish(events);
    return result;
  }

  /**
   * A write for background work: it waits for the lock only briefly, so that a lock held
   * by another process does not freeze this process's event loop for the whole busy
   * timeout on every tick.
   */
  private background<T>(unit: Unit<T>): T {
    return this.briefly(() => this.commit(() => this.run(unit)));
  }

  /** Runs `fn` with a short busy timeout. */
  private briefly<T>(fn: () => T): T {
    this.db.pragma(`busy_timeout = ${BACKGROUND_BUSY_MS}`);
    try {
      return fn();
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /** Runs a read or a maintenance job: refuses a closed store, maps SQLite's errors. */
  private guard<T>(fn: () => T): T {
    if (this.closed) throw new TaskwireError('STORAGE', 'the store is closed');
    try {
      return fn();
    } catch (e) {
      throw this.storageError(e);
    }
  }

  private storageError(e: unknown): unknown {
    const mapped = mapSqliteError(e);
    if (mapped instanceof TaskwireError && (mapped.code === 'BUSY' || mapped.code === 'STORAGE')) this.onStorageError?.(mapped);
    return mapped;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.feed.stop();
    this.flushQueued(); // writes already accepted are committed, not dropped
    this.feed.poll();
    this.closed = true;
    await this.checkpoints?.stop();
    try {
      // A reader in another process can hold the checkpoint back; wait briefly, not for
      // the whole busy timeout: the next opener checkpoints anyway.
      this.db.pragma('busy_timeout = 200');
      this.db.pragma('optimize');
      if (this.info.location !== ':memory:') this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Closing must not fail because another process holds the lock.
    }
    this.db.close();
  }
}
