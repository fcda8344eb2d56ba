/**
 * Outbox rows written by another process reach this process's bus, in id order, once
 * each, with no gaps, also while this process writes events of its own in between.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/store/index.js';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import { Child, makeTempDir, waitUntil } from './harness.js';

const N = 150; // rounds of enqueue + claim + complete in process B

function expectGapless(ids: readonly number[], label: string): void {
  const broken: string[] = [];
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] !== ids[i - 1]! + 1) broken.push(`${ids[i - 1]} -> ${ids[i]}`);
  }
  expect(broken.slice(0, 5), `${label}: ids must increase by exactly 1`).toEqual([]);
}

describe('cross-process events', () => {
  const tmp = makeTempDir('events');
  const children: Child[] = [];
  const stores: SqliteTaskStore[] = [];
  afterAll(async () => {
    for (const c of children) c.kill();
    for (const s of stores) await s.close();
    tmp.remove();
  });

  it("delivers B's outbox rows to A's bus in order, once each, with A's own rows interleaved", async () => {
    const dbPath = join(tmp.dir, 'events.db');
    // Default tailing: a timer that wakes on PRAGMA data_version changes.
    const a = new SqliteTaskStore({ path: dbPath });
    stores.push(a);
    // Something in the outbox before A subscribes: it must not be delivered again.
    await a.enqueue({ type: 'before', queue: 'a', payload: {} });
    const startId = a.bus.lastPublishedId;
    expect(startId).toBeGreaterThan(0);

    const received: StoredEvent[] = [];
    a.bus.subscribe((e) => received.push(e));

    const b = new Child('events-writer.ts', [dbPath, String(N)]);
    children.push(b);
    await b.waitForLine((l) => l === 'READY');
    b.send('GO');

    // A writes its own changes while B runs, yielding so the tail timer gets its turns.
    let aRounds = 0;
    const aRound = async () => {
      const { task } = await a.enqueue({ type: 'a-job', queue: 'a', payload: { n: aRounds } });
      const [c] = await a.claim({ workerId: 'A', queue: 'a', limit: 1 });
      await a.complete({ taskId: c!.task.id, leaseToken: c!.leaseToken });
      expect(c!.task.queue).toBe('a');
      aRounds++;
      return task.id;
    };
    const aWhile = async (until: () => boolean) => {
      while (!until()) {
        await aRound();
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    let half = false;
    void b.waitForLine((l) => l === 'HALF').then(() => (half = true), () => (half = true));
    await aWhile(() => half);
    // B is paused: these rows land strictly between B's two halves.
    for (let i = 0; i < 5; i++) await aRound();
    b.send('CONTINUE');
    let finished = false;
    void b.exited.then(() => (finished = true));
    await aWhile(() => finished);

    const exit = await b.exited;
    expect(b.lines.filter((l) => l.startsWith('ERROR')), b.stderr).toEqual([]);
    expect(exit.code).toBe(0);
    const bLast = Number(b.lines.find((l) => l.startsWith('FINISHED '))!.split(' ')[1]);
    const lastInDb = await a.lastEventId();
    expect(lastInDb).toBeGreaterThanOrEqual(bLast);
    // Bounded wait for the tail to catch up; pollOutbox forces a look on every step.
    await waitUntil(
      () => {
        void a.pollOutbox();
        return a.bus.lastPublishedId >= lastInDb;
      },
      10_000,
      'A to publish every outbox row',
    );

    const ids = received.map((e) => e.id);
    expect(ids[0]).toBe(startId + 1);
    expectGapless(ids, 'A');
    expect(ids[ids.length - 1]).toBe(lastInDb);
    // What A's bus saw is exactly what the outbox holds, field for field.
    expect(received).toEqual(await a.eventsAfter(startId, 1_000_000));

    // All of B's changes: each of its N tasks was ENQUEUED, CLAIMED, SUCCEEDED, in that order.
    const fromB = received.filter((e) => e.queue === 'b');
    expect(fromB.length).toBe(3 * N);
    const perTask = new Map<number, string[]>();
    for (const e of fromB) perTask.set(e.taskId!, [...(perTask.get(e.taskId!) ?? []), e.kind]);
    expect(perTask.size).toBe(N);
    for (const kinds of perTask.values()) expect(kinds).toEqual(['ENQUEUED', 'CLAIMED', 'SUCCEEDED']);
    expect(fromB.filter((e) => e.kind === 'CLAIMED').every((e) => e.workerId === 'B')).toBe(true);
    expect(received.filter((e) => e.kind === 'WORKER_UPDATED' && e.workerId === 'B').length).toBe(1);

    // A's own rows are there too, and really interleaved with B's.
    const fromA = received.filter((e) => e.queue === 'a');
    expect(fromA.length).toBe(3 * aRounds);
    const bIds = fromB.map((e) => e.id);
    const between = fromA.filter((e) => e.id > bIds[0]! && e.id < bIds[bIds.length - 1]!);
    expect(between.length).toBeGreaterThanOrEqual(15);

    // And the other direction: B's bus saw A's rows as well, gapless, once each.
    const seenByB = JSON.parse(b.lines.find((l) => l.startsWith('SEEN '))!.slice(5)) as number[];
    expect(seenByB[0]).toBe(startId + 1);
    expectGapless(seenByB, 'B');
    // Gapless from the first id to at least B's last write: that range holds A's rows
    // written while B was paused, so B's bus received them between its own.
    expect(seenByB[seenByB.length - 1]).toBeGreaterThanOrEqual(bLast);
  }, 180_000);
});
