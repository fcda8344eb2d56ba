/** Prepared statements of the SQLite driver, cached by their SQL text. */
import type Database from 'better-sqlite3';
import type { Task } from '../types.js';
import type { SqliteDatabase } from './database.js';
import { TASK_COLUMNS, toTaskFromValues } from '../rows.js';

type Statement = Database.Statement;

/**
 * Statements keyed by the SQL text as written at the call site (a literal, whose hash V8
 * keeps), bounded so that dynamic list queries cannot grow the cache without end.
 */
export class Statements {
  private readonly map = new Map<string, Statement>();
  private readonly rawMap = new Map<string, Statement>();
  /** UPDATE ... RETURNING statements: a fixed set of texts, so not bounded. */
  private readonly taskUpdates = new Map<string, Statement>();

  constructor(
    readonly db: SqliteDatabase,
    private readonly max = 500,
  ) {}

  get(sql: string): Statement {
    return this.cached(this.map, sql);
  }

  /** The same statement in raw mode: rows come back as arrays of column values. */
  raw(sql: string): Statement {
    return this.cached(this.rawMap, sql);
  }

  private cached(map: Map<string, Statement>, sql: string): Statement {
    let s = map.get(sql);
    if (!s) {
      if (map.size >= this.max) map.delete(map.keys().next().value!);
      s = this.db.prepare(sql);
      if (map === this.rawMap) s.raw(true);
      map.set(sql, s);
    }
    return s;
  }

  /**
   * A fixed statement of a hot operation, prepared on first use and then held by the
   * operation itself: no text to build or look up per call.
   */
  once(sql: string): () => Statement {
    let s: Statement | null = null;
    return () => (s ??= this.db.prepare(sql));
  }

  /** The same for a one-task UPDATE with RETURNING every column, mapped to a Task (raw mode). */
  taskUpdate(sql: string): (params: Record<string, unknown>) => Task | null {
    let s: Statement | null = null;
    return (params) => {
      s ??= this.db.prepare(`${sql} RETURNING ${TASK_COLUMNS}`).raw(true);
      const row = s.get(params) as unknown[] | undefined;
      return row ? toTaskFromValues(row) : null;
    };
  }

  /**
   * The same for an UPDATE of many tasks (a batch operation's one statement): every row
   * it returns, mapped, in the order SQLite returns them (which the caller must not rely on).
   */
  tasksUpdate(sql: string): (params: Record<string, unknown>) => Task[] {
    let s: Statement | null = null;
    return (params) => {
      s ??= this.db.prepare(`${sql} RETURNING ${TASK_COLUMNS}`).raw(true);
      return (s.all(params) as unknown[][]).map(toTaskFromValues);
    };
  }

  /** Runs an UPDATE on one task with RETURNING every column, and maps the row (raw mode). */
  updateTask(sql: string, params: Record<string, unknown>): Task | null {
    let statement = this.taskUpdates.get(sql);
    if (!statement) {
      // Looking the text up in the bounded cache would first build "sql RETURNING <27
      // columns>" again on every call.
      statement = this.db.prepare(`${sql} RETURNING ${TASK_COLUMNS}`).raw(true);
      this.taskUpdates.set(sql, statement);
    }
    const row = statement.get(params) as unknown[] | undefined;
    return row ? toTaskFromValues(row) : null;
  }
}

/** A JSON array parameter for `IN (SELECT value FROM json_each(?))`: one statement for any list length. */
export const jsonList = (values: readonly unknown[]): string => JSON.stringify(values);

/** `('A','B')` for status literals that partial indexes match against (statuses come from the enum). */
export const sqlList = (values: readonly string[]): string => `(${values.map((v) => `'${v}'`).join(',')})`;
