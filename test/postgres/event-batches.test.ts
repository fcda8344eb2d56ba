/**
 * Migration 002: the outbox as one row per transaction (event_batches). A schema at 001
 * keeps its events and their positions; rows that were not numbered yet are numbered
 * after them; retention trims a batch from its front and its positions stay contiguous.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { PostgresTaskStore } from '../../src/store/postgres/store.js';
import * as m001 from '../../src/store/postgres/migrations/001_initial.js';
import { adminPool, freshSchemaUrl } from '../helpers/postgres.js';

const open = async (url: string) => {
  const store = await PostgresTaskStore.open({ url, feedPollMs: 0, listen: false });
  onTestFinished(() => store.close());
  return store;
};

describe('the outbox in batches (migration 002)', () => {
  it('a schema at 001 keeps its events, positions and cursor; unnumbered rows are numbered after them', async () => {
    const url = freshSchemaUrl();
    const schema = new URL(url).searchParams.get('schema')!;
    const c = await adminPool().connect();
    try {
      await c.query(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
      await c.query(m001.sql);
      await c.query(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      await c.query(`INSERT INTO schema_migrations (version, name) VALUES (1, 'initial')`);
      await c.query(`INSERT INTO task_events (pos, kind, at, worker_id) VALUES (1, 'WORKER_UPDATED', 10, 'w1'), (2, 'WORKER_UPDATED', 11, 'w2')`);
      await c.query(`INSERT INTO task_events (kind, at, worker_id) VALUES ('WORKER_UPDATED', 12, 'w3')`);
      await c.query(`UPDATE event_sequence SET last_pos = 2`);
    } finally {
      await c.query('RESET search_path').catch(() => {});
      c.release();
    }
    const store = await open(url);
    expect(await store.lastEventId()).toBe(2);
    await store.pollOutbox();
    const all = await store.eventsAfter(0, 10);
    expect(all.map((e) => [e.id, e.workerId, e.at])).toEqual([
      [1, 'w1', 10],
      [2, 'w2', 11],
      [3, 'w3', 12],
    ]);
    await store.enqueue({ type: 'x', payload: {} });
    expect((await store.eventsAfter(2, 10)).map((e) => [e.id, e.kind])).toEqual([
      [3, 'WORKER_UPDATED'],
      [4, 'ENQUEUED'],
    ]);
    const view = await adminPool().query(`SELECT pos::int AS pos, kind FROM ${schema}.task_events ORDER BY pos`);
    expect(view.rows.map((r) => r.pos)).toEqual([1, 2, 3, 4]);
  });

  it('a transaction of many events is one batch; a cursor inside it reads the rest; trimming keeps positions', async () => {
    const url = freshSchemaUrl();
    const schema = new URL(url).searchParams.get('schema')!;
    const store = await open(url);
    await store.enqueueMany(Array.from({ length: 7 }, (_, i) => ({ type: 't', payload: { i } })));
    const { rows } = await adminPool().query(`SELECT pos::int AS pos, last_pos::int AS last, n FROM ${schema}.event_batches`);
    expect(rows).toEqual([{ pos: 1, last: 7, n: 7 }]);
    expect((await store.eventsAfter(4, 2)).map((e) => e.id)).toEqual([5, 6]);
    expect((await store.eventsAfter(4, 100)).map((e) => e.id)).toEqual([5, 6, 7]);
    // Trim by count: the batch loses its head (3 events older than any grace period).
    const trimmed = await adminPool().query(
      `SET search_path TO ${schema}; UPDATE event_batches SET ats = array_fill(0::bigint, ARRAY[n]), max_at = 0; RESET search_path`,
    );
    expect(trimmed).toBeDefined();
    expect(await store.trimEvents(Number.MAX_SAFE_INTEGER, 4)).toBe(3);
    expect((await store.eventsAfter(0, 100)).map((e) => e.id)).toEqual([4, 5, 6, 7]);
    const after = await adminPool().query(`SELECT pos::int AS pos, last_pos::int AS last, n FROM ${schema}.event_batches`);
    expect(after.rows).toEqual([{ pos: 4, last: 7, n: 4 }]);
    expect(await store.pg.maintenance.integrityCheck!()).toEqual(['ok']);
  });
});
