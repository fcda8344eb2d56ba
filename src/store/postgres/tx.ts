/**
 * What a PostgreSQL operation runs on: one connection (a transaction's client, or the pool
 * for a read), and the outbox rows its transaction has appended so far.
 */
import type pg from 'pg';
import type { NewEvent, Ops, OpName } from '../driver.js';

export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>>;
}

export interface Tx {
  db: Queryable;
  /**
   * appendEvent's rows, written with one INSERT just before COMMIT (driver.ts): one
   * statement per transaction instead of one per event, and after every row lock the
   * transaction takes, which keeps one task's events in the order of its changes.
   */
  events: NewEvent[];
}

/** The seam's operations as this driver implements them: each takes the transaction first. */
export type TxOps<K extends OpName = OpName> = {
  [P in K]: (tx: Tx, ...args: Parameters<Ops[P]>) => Promise<ReturnType<Ops[P]>>;
};

/**
 * A named statement: prepared on each connection the first time it runs there, then
 * executed by name (no parse or plan per call).
 */
export function statement<R extends pg.QueryResultRow = pg.QueryResultRow>(name: string, text: string) {
  const fullName = `tw_${name}`;
  return (db: Queryable, values: unknown[]): Promise<pg.QueryResult<R>> => db.query<R>({ name: fullName, text, values });
}
