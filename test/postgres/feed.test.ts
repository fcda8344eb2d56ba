/**
 * The PostgreSQL outbox feed: rows are numbered (pos) only once committed, so a reader
 * that has seen pos N never misses a row committed later, whatever id it was given; every
 * store on the database publishes the same rows, once each, in one order.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresTaskStore } from '../../src/store/postgres/store.js';
import type { StoredEvent } from '../../src/store/index.js';
import { freshSchemaUrl } from '../helpers/postgres.js';
import { onTestFinished } from 'vitest';

async function open(url: string, options: { listen?: boolean; feedPollMs?: number } = {}) {
  const store = await PostgresTaskStore.open({ url, feedPollMs: 0, listen: false, ...options });
  const events: StoredEvent[] = [];
  store.bus.subscribe((e) => events.push(e));
  onTestFinished(() => store.close());
  return { store, events };
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('the outbox cursor on PostgreSQL', () => {
  it('a row whose transaction commits late is numbered after the rows committed before it: a reader past them still gets it', async () => {
    const url = freshSchemaUrl();
    const { store, events } = await open(url);
    const schema = new URL(url).searchParams.get('schema')!;
    // Transaction A takes an outbox id first and stays open.
    const a = new pg.Client({ connectionString: url.split('?')[0] });
    await a.connect();
    onTestFinished(() => a.end());
    await a.query(`SET search_path TO ${schema}`);
    await a.query('BEGIN');
    const { rows } = await a.query<{ id: string }>(
      `INSERT INTO event_batches (n, kinds, ats, task_ids, statuses, queues, types, worker_ids, log_ids, max_at)
       VALUES (1, '{LATE}', '{1}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', 1) RETURNING id`,
    );
    const lateId = Number(rows[0]!.id);
    // B commits after it (a later id), through the store; the store's reader publishes it.
    await store.enqueue({ type: 'b', payload: {} });
    expect(events.map((e) => e.kind)).toEqual(['ENQUEUED']);
    const seen = events[0]!.id;
    // The naive cursor would now be B's id, past A's: A's row would never be read.
    const bId = Number((await store.pg.db.query(`SELECT batch_id AS id FROM task_events WHERE kind = 'ENQUEUED'`)).rows[0]!.id);
    expect(lateId).toBeLessThan(bId);
    await a.query('COMMIT');
    await store.pollOutbox();
    expect(events.map((e) => e.kind)).toEqual(['ENQUEUED', 'LATE']);
    expect(events[1]!.id).toBe(seen + 1);
    // A reader resuming from the cursor it held gets exactly the late row.
    expect((await store.eventsAfter(seen, 10)).map((e) => e.kind)).toEqual(['LATE']);
  });

  it('three stores writing at once: each bus hears every committed row once, in one gapless order that is the outbox order', async () => {
    const url = freshSchemaUrl();
    const stores = [await open(url), await open(url), await open(url)];
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const s = stores[i % 3]!.store;
      writes.push(
        (async () => {
          const { task } = await s.enqueue({ type: `t${i % 3}`, payload: { i } });
          const [c] = await s.claim({ workerId: `w${i}`, types: [task.type], limit: 1 });
          if (c) await s.complete({ taskId: c.task.id, leaseToken: c.leaseToken });
        })(),
      );
    }
    await Promise.all(writes);
    for (const s of stores) await s.store.pollOutbox();
    const outbox = await stores[0]!.store.eventsAfter(0, 10_000);
    expect(outbox.map((e) => e.id)).toEqual(outbox.map((_, i) => i + 1));
    expect(outbox.filter((e) => e.kind === 'SUCCEEDED')).toHaveLength(60);
    for (const s of stores) expect(s.events.map((e) => e.id)).toEqual(outbox.map((e) => e.id));
    // One task's events in the order of its changes.
    const byTask = new Map<number, string[]>();
    for (const e of outbox) if (e.taskId !== null) byTask.set(e.taskId, [...(byTask.get(e.taskId) ?? []), e.kind]);
    for (const kinds of byTask.values()) expect(kinds).toEqual(['ENQUEUED', 'CLAIMED', 'SUCCEEDED']);
  });

  it("without LISTEN, the slow poll alone brings another instance's commits to this bus", async () => {
    const url = freshSchemaUrl();
    // No listener on either side: only the reader's timer can find the writer's rows.
    const reader = await open(url, { listen: false, feedPollMs: 50 });
    const { store: writer } = await open(url, { listen: false, feedPollMs: 0 });
    await writer.enqueue({ type: 'polled', payload: {} });
    await waitFor(() => reader.events.length === 1, 5000, 'the poll to publish the row');
    expect(reader.events.map((e) => [e.id, e.type])).toEqual([[1, 'polled']]);
  });

  it("another instance's commit reaches this bus through LISTEN/NOTIFY alone, and again after the listener is cut", async () => {
    const url = freshSchemaUrl();
    // No timer: only a notification can wake the reader.
    const reader = await open(url, { listen: true, feedPollMs: 0 });
    const { store: writer } = await open(url, { listen: true, feedPollMs: 0 });
    await writer.enqueue({ type: 'one', payload: {} });
    await waitFor(() => reader.events.length === 1, 5000, 'the first event on the reader');
    reader.store.pg.feed.breakListener();
    await waitFor(() => reader.store.pg.feed.listening, 10_000, 'the listener to reconnect');
    await writer.enqueue({ type: 'two', payload: {} });
    await waitFor(() => reader.events.length === 2, 5000, 'the second event on the reader');
    expect(reader.events.map((e) => e.type)).toEqual(['one', 'two']);
  });
});
