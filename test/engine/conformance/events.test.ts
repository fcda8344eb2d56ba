/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * The outbox and the bus: one event per change, in commit order, gapless; nothing for a
 * write that failed; other stores' writes on the same database reach this store's bus.
 */
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/events/bus.js';
import type { StoredEvent } from '../../../src/store/index.js';
import { T0, expectError, makeDatabase, makeStore } from '../../helpers/drivers.js';

describe('the outbox and the bus', () => {
  it('publishes one event per change, in order, matching the outbox rows', async () => {
    const { store, clock, events } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {}, queue: 'q1' });
    clock.advance(1);
    const [c] = await store.claim({ workerId: 'w', queue: 'q1' });
    clock.advance(1);
    await store.reportProgress({ taskId: task.id, leaseToken: c!.leaseToken, progress: 0.5 });
    await store.appendLog({ taskId: task.id, level: 'INFO', message: 'half', leaseToken: c!.leaseToken });
    clock.advance(1);
    await store.fail({ taskId: task.id, leaseToken: c!.leaseToken, error: 'x', retryAfterSeconds: 0 });
    const [c2] = await store.claim({ workerId: 'w', queue: 'q1' });
    await store.cancel(task.id);
    await store.fail({ taskId: task.id, leaseToken: c2!.leaseToken, error: 'stopped' });
    await store.retry(task.id);

    expect(events.map((e) => e.kind)).toEqual([
      'ENQUEUED',
      'WORKER_UPDATED',
      'CLAIMED',
      'PROGRESS',
      'LOG_ADDED',
      'RETRY_SCHEDULED',
      'CLAIMED',
      'CANCEL_REQUESTED',
      'CANCELLED',
      'REQUEUED',
    ]);
    expect(events.map((e) => e.status)).toEqual([
      'QUEUED',
      null,
      'RUNNING',
      'RUNNING',
      null,
      'QUEUED',
      'RUNNING',
      'RUNNING',
      'CANCELLED',
      'QUEUED',
    ]);
    for (const e of events.filter((x) => x.kind !== 'WORKER_UPDATED')) {
      expect(e.taskId).toBe(task.id);
    }
    for (const e of events.filter((x) => x.status !== null)) {
      expect(e).toMatchObject({ queue: 'q1', type: 'job' });
    }
    expect(events[0]!.at).toBe(T0);
    expect(events[2]!.at).toBe(T0 + 1);
    expect(events[1]).toMatchObject({ kind: 'WORKER_UPDATED', workerId: 'w', taskId: null });

    // Ids strictly increase by one, and the bus saw exactly the committed rows.
    for (let i = 1; i < events.length; i++) expect(events[i]!.id).toBe(events[i - 1]!.id + 1);
    expect(await store.eventsAfter(0, 1000)).toEqual(events);
    expect(await store.lastEventId()).toBe(events.at(-1)!.id);
    expect(store.bus.lastPublishedId).toBe(events.at(-1)!.id);
  });

  it('eventsAfter(cursor) returns exactly the later events, oldest first, up to limit', async () => {
    const { store } = await makeStore();
    await store.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ type: 'job', payload: { i } })));
    const all = await store.eventsAfter(0, 100);
    expect(all).toHaveLength(10);
    const cursor = all[3]!.id;
    expect(await store.eventsAfter(cursor, 100)).toEqual(all.slice(4));
    expect(await store.eventsAfter(cursor, 2)).toEqual(all.slice(4, 6));
    expect(await store.eventsAfter(all[9]!.id, 100)).toEqual([]);
    // Walking in pages visits each event once.
    const walked: StoredEvent[] = [];
    let after = 0;
    for (;;) {
      const page = await store.eventsAfter(after, 3);
      if (page.length === 0) break;
      walked.push(...page);
      after = page.at(-1)!.id;
    }
    expect(walked).toEqual(all);
  });

  it('a batch publishes its events only after the commit, all together', async () => {
    const { store } = await makeStore();
    const seenDuring: Promise<number>[] = [];
    store.bus.subscribe(() => {
      // When the bus fires, the rows are committed and readable (the read starts here).
      seenDuring.push(store.countTasks());
    });
    await store.enqueueMany(Array.from({ length: 3 }, () => ({ type: 'job', payload: {} })));
    expect(await Promise.all(seenDuring)).toEqual([3, 3, 3]);
  });

  it('a failed operation publishes nothing and leaves no outbox row', async () => {
    const { store, events } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {} });
    const [c] = await store.claim({ workerId: 'w' });
    await store.complete({ taskId: task.id, leaseToken: c!.leaseToken });
    const count = events.length;
    const last = await store.lastEventId();

    await expectError(store.enqueueMany([{ type: 'ok', payload: {} }, { type: '', payload: {} }]), 'VALIDATION');
    await expectError(store.cancel(task.id), 'INVALID_STATE');
    await expectError(store.complete({ taskId: task.id, leaseToken: c!.leaseToken }), 'LEASE_LOST');
    await expectError(store.retry(task.id), 'INVALID_STATE');

    expect(events.length).toBe(count);
    expect(await store.lastEventId()).toBe(last);
    expect(await store.eventsAfter(last, 100)).toEqual([]);
    // The next successful write continues the sequence without a gap.
    await store.enqueue({ type: 'next', payload: {} });
    expect(events.at(-1)!.id).toBe(last + 1);
  });

  it('WORKER_UPDATED marks a new worker or a change, not every poll with the same capabilities', async () => {
    const { store, clock, events } = await makeStore({ staleWorkerAfterMs: 60_000 });
    const workerEvents = () => events.filter((e) => e.kind === 'WORKER_UPDATED').length;
    const caps = { region: 'eu', formats: ['png'] };
    await store.claim({ workerId: 'w', capabilities: caps });
    expect(workerEvents()).toBe(1); // new worker
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      await store.claim({ workerId: 'w', capabilities: caps });
      await store.heartbeat({ workerId: 'w', capabilities: caps });
    }
    // Nothing about the worker changed but its heartbeat time: no outbox rows for idle polls.
    expect(workerEvents()).toBe(1);
    await store.claim({ workerId: 'w', capabilities: { region: 'us' } });
    expect(workerEvents()).toBe(2); // capabilities changed
    clock.advance(60_001);
    await store.sweep();
    expect(workerEvents()).toBe(3); // became STALE
    await store.claim({ workerId: 'w', capabilities: { region: 'us' } });
    expect(workerEvents()).toBe(4); // back to ACTIVE
  });

  it('a throwing listener does not stop the others or the writer', async () => {
    const { store, events } = await makeStore();
    store.bus.subscribe(() => {
      throw new Error('listener bug');
    });
    const later: string[] = [];
    store.bus.subscribe((e) => later.push(e.kind));
    const { task } = await store.enqueue({ type: 'job', payload: {} });
    expect(task.status).toBe('QUEUED');
    expect(events.map((e) => e.kind)).toEqual(['ENQUEUED']);
    expect(later).toEqual(['ENQUEUED']);
  });

  it('an unsubscribed listener hears nothing more', async () => {
    const { store } = await makeStore();
    const heard: string[] = [];
    const off = store.bus.subscribe((e) => heard.push(e.kind));
    await store.enqueue({ type: 'job', payload: {} });
    off();
    await store.enqueue({ type: 'job', payload: {} });
    expect(heard).toEqual(['ENQUEUED']);
  });

  it('the bus ignores an event it has already published', () => {
    const bus = new EventBus();
    const heard: number[] = [];
    bus.subscribe((e) => heard.push(e.id));
    const ev = (id: number): StoredEvent => ({
      id,
      kind: 'ENQUEUED',
      at: 0,
      taskId: id,
      status: 'QUEUED',
      queue: 'default',
      type: 't',
      workerId: null,
      logId: null,
    });
    bus.publish(ev(1));
    bus.publish(ev(2));
    bus.publish(ev(2));
    bus.publish(ev(1));
    bus.publish(ev(3));
    expect(heard).toEqual([1, 2, 3]);
    expect(bus.lastPublishedId).toBe(3);
  });

  it('trimEvents removes by age and by count, and ids keep increasing afterwards', async () => {
    const { store, clock, events } = await makeStore();
    await store.enqueue({ type: 'old', payload: {} });
    clock.advance(120_000);
    await store.enqueueMany(Array.from({ length: 5 }, () => ({ type: 'new', payload: {} })));
    const last = await store.lastEventId();
    expect(last).toBe(6);

    expect(await store.trimEvents(90_000, Number.MAX_SAFE_INTEGER)).toBe(1);
    expect((await store.eventsAfter(0, 100)).map((e) => e.id)).toEqual([2, 3, 4, 5, 6]);
    // The last minute is never trimmed, whatever is asked: a tailing process may not have read it.
    expect(await store.trimEvents(0, 0)).toBe(0);
    clock.advance(61_000);
    expect(await store.trimEvents(3_600_000, 2)).toBe(3);
    expect((await store.eventsAfter(0, 100)).map((e) => e.id)).toEqual([5, 6]);
    expect(await store.trimEvents(0, 0)).toBe(2);
    expect(await store.eventsAfter(0, 100)).toEqual([]);
    // The cursor survives an empty outbox: the next event is 7, not 1.
    expect(await store.lastEventId()).toBe(6);
    await store.enqueue({ type: 'after', payload: {} });
    expect(events.at(-1)!.id).toBe(7);
    expect((await store.eventsAfter(6, 10)).map((e) => e.id)).toEqual([7]);
  });

  it('a reopened store does not republish old events and continues the sequence', async () => {
    const database = await makeDatabase();
    const { store: first } = await database.open();
    await first.enqueue({ type: 'a', payload: {} });
    await first.enqueue({ type: 'b', payload: {} });
    await first.close();

    const { store: second, events: heard } = await database.open();
    expect(second.bus.lastPublishedId).toBe(2);
    await second.pollOutbox();
    expect(heard).toEqual([]);
    await second.enqueue({ type: 'c', payload: {} });
    expect(heard.map((e) => [e.id, e.kind, e.type, e.at])).toEqual([[3, 'ENQUEUED', 'c', T0]]);
  });

  it("another connection's writes reach this store's bus, in order, once each", async () => {
    const database = await makeDatabase();
    const { store: reader, events: heard } = await database.open();
    const { store: writer } = await database.open();
    await writer.enqueue({ type: 'x', payload: {} });
    await writer.enqueue({ type: 'y', payload: {} });
    await reader.pollOutbox();
    await reader.pollOutbox();
    expect(heard.map((e) => [e.id, e.type])).toEqual([
      [1, 'x'],
      [2, 'y'],
    ]);
    // A write by the reader itself after foreign writes: the foreign rows come first, no gap, no repeat.
    await writer.enqueue({ type: 'z', payload: {} });
    await reader.enqueue({ type: 'own', payload: {} });
    await reader.pollOutbox();
    expect(heard.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    expect(heard.map((e) => e.type)).toEqual(['x', 'y', 'z', 'own']);
  });
});
