/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * Enqueue: defaults, validation, idempotency keys, delays, batches and sizes.
 */
import { describe, expect, it } from 'vitest';
import type { EnqueueInput } from '../../../src/store/index.js';
import { T0, enqueueAndClaim, expectError, makeStore } from '../../helpers/drivers.js';

describe('enqueue', () => {
  it('stores a task with the documented defaults', async () => {
    const { store } = await makeStore();
    const { task, created } = await store.enqueue({ type: 'email.send', payload: { to: 'a@example.com' } });
    expect(created).toBe(true);
    expect(task).toMatchObject({
      queue: 'default',
      type: 'email.send',
      priority: 100,
      maxAttempts: 5,
      status: 'QUEUED',
      attempts: 0,
      payload: { to: 'a@example.com' },
      compatibility: {},
      region: null,
      format: null,
      runAfter: T0,
      createdAt: T0,
      updatedAt: T0,
      leaseUntil: null,
      lockedBy: null,
      startedAt: null,
      finishedAt: null,
      cancelRequested: false,
      idempotencyKey: null,
      correlationId: null,
      timeoutSeconds: null,
      result: null,
      errorMessage: null,
    });
    expect(task.id).toBeGreaterThan(0);
    expect(await store.getTask(task.id)).toEqual(task);
  });

  it('keeps the fields it is given', async () => {
    const { store } = await makeStore();
    const { task } = await store.enqueue({
      type: 'render',
      queue: 'media',
      priority: -5,
      payload: { n: 1 },
      maxAttempts: 2,
      timeoutSeconds: 60,
      correlationId: 'order-7',
      idempotencyKey: 'render-7',
    });
    expect(task).toMatchObject({
      queue: 'media',
      priority: -5,
      maxAttempts: 2,
      timeoutSeconds: 60,
      correlationId: 'order-7',
      idempotencyKey: 'render-7',
    });
  });

  it('derives region from compatibility.region and format from payload.format', async () => {
    const { store } = await makeStore();
    const { task } = await store.enqueue({
      type: 'transcode',
      payload: { format: 'mp4', src: 's3://x' },
      compatibility: { region: 'eu-west', gpu: true },
    });
    expect(task.region).toBe('eu-west');
    expect(task.format).toBe('mp4');
    // As stored, not only as returned (SQLite keeps them in indexed generated columns:
    // test/store/sqlite/open.test.ts).
    expect(await store.getTask(task.id)).toMatchObject({ region: 'eu-west', format: 'mp4' });
  });

  it.each<[string, Partial<EnqueueInput>, string]>([
    ['empty type', { type: '' }, 'type'],
    ['blank type', { type: '   ' }, 'type'],
    ['payload that is an array', { payload: [1, 2] }, 'payload'],
    ['payload that is a string', { payload: 'hello' }, 'payload'],
    ['payload that is null', { payload: null }, 'payload'],
    ['payload that is missing', { payload: undefined }, 'payload'],
    ['compatibility that is an array', { compatibility: ['eu'] }, 'compatibility'],
    ['non-integer priority', { priority: 1.5 }, 'priority'],
    ['NaN priority', { priority: Number.NaN }, 'priority'],
    ['maxAttempts 0', { maxAttempts: 0 }, 'maxAttempts'],
    ['negative maxAttempts', { maxAttempts: -1 }, 'maxAttempts'],
    ['runAfter and delaySeconds together', { runAfter: T0 + 1000, delaySeconds: 5 }, 'runAfter'],
    ['NaN runAfter', { runAfter: Number.NaN }, 'runAfter'],
    ['NaN delaySeconds', { delaySeconds: Number.NaN }, 'delaySeconds'],
    ['negative delaySeconds', { delaySeconds: -1 }, 'delaySeconds'],
    ['timeoutSeconds 0', { timeoutSeconds: 0 }, 'timeoutSeconds'],
    ['unknown dependency', { dependsOn: [424242] }, 'dependsOn'],
    ['empty queue', { queue: '' }, 'queue'],
    ['empty idempotencyKey', { idempotencyKey: '' }, 'idempotencyKey'],
    ['type longer than 200 characters', { type: 't'.repeat(201) }, 'type'],
    ['priority beyond the limit', { priority: 2_000_000_000 }, 'priority'],
  ])('rejects %s with VALIDATION and stores nothing', async (_name, override, field) => {
    const { store, events } = await makeStore();
    const input = { type: 'job', payload: {}, ...override } as EnqueueInput;
    const err = await expectError(store.enqueue(input), 'VALIDATION');
    expect(err.details?.field).toBe(field);
    expect(await store.countTasks()).toBe(0);
    expect(events).toEqual([]);
  });

  it('returns the existing task with created=false for a known idempotency key', async () => {
    const { store, clock, events } = await makeStore();
    const first = await store.enqueue({ type: 'charge', payload: { amount: 10 }, idempotencyKey: 'pay-1' });
    clock.advance(1000);
    const eventsBefore = events.length;
    const again = await store.enqueue({ type: 'charge', payload: { amount: 99 }, idempotencyKey: 'pay-1' });
    expect(again.created).toBe(false);
    expect(again.task).toEqual(first.task);
    expect(again.task.payload).toEqual({ amount: 10 });
    expect(await store.countTasks()).toBe(1);
    expect(events.length).toBe(eventsBefore);
    expect((await store.getTaskByIdempotencyKey('pay-1'))?.id).toBe(first.task.id);
    expect(await store.getTaskByIdempotencyKey('pay-2')).toBeNull();
  });

  it('keeps deduplicating after the task with that key has finished', async () => {
    const { store } = await makeStore();
    const { task } = await store.enqueue({ type: 'charge', payload: {}, idempotencyKey: 'pay-9' });
    const [c] = await store.claim({ workerId: 'w' });
    await store.complete({ taskId: task.id, leaseToken: c!.leaseToken, result: { ok: true } });
    const again = await store.enqueue({ type: 'charge', payload: {}, idempotencyKey: 'pay-9' });
    expect(again.created).toBe(false);
    expect(again.task.id).toBe(task.id);
    expect(again.task.status).toBe('SUCCEEDED');
    expect(again.task.result).toEqual({ ok: true });
    expect(await store.countTasks()).toBe(1);
  });

  it('delaySeconds keeps the task from being claimed until the clock passes it', async () => {
    const { store, clock } = await makeStore();
    const { task } = await store.enqueue({ type: 'later', payload: {}, delaySeconds: 60 });
    expect(task.runAfter).toBe(T0 + 60_000);
    expect(await store.claim({ workerId: 'w' })).toEqual([]);
    clock.advance(59_999);
    expect(await store.claim({ workerId: 'w' })).toEqual([]);
    clock.advance(1);
    const claimed = await store.claim({ workerId: 'w' });
    expect(claimed.map((c) => c.task.id)).toEqual([task.id]);
  });

  it('runAfter keeps the task from being claimed until the clock passes it', async () => {
    const { store, clock } = await makeStore();
    const { task } = await store.enqueue({ type: 'later', payload: {}, runAfter: T0 + 5_000 });
    expect(task.runAfter).toBe(T0 + 5_000);
    expect(await store.claim({ workerId: 'w' })).toEqual([]);
    clock.advance(5_000);
    expect((await store.claim({ workerId: 'w' })).map((c) => c.task.id)).toEqual([task.id]);
  });

  it('a runAfter in the past is claimable at once', async () => {
    const { store } = await makeStore();
    const { task } = await store.enqueue({ type: 'now', payload: {}, runAfter: T0 - 60_000 });
    expect((await store.claim({ workerId: 'w' })).map((c) => c.task.id)).toEqual([task.id]);
  });
});

describe('enqueueMany', () => {
  it('stores a batch in order and returns one result per input', async () => {
    const { store } = await makeStore();
    const results = await store.enqueueMany([
      { type: 'a', payload: { i: 0 } },
      { type: 'b', payload: { i: 1 }, idempotencyKey: 'k' },
      { type: 'b', payload: { i: 2 }, idempotencyKey: 'k' },
    ]);
    expect(results.map((r) => r.created)).toEqual([true, true, false]);
    expect(results[2]!.task.id).toBe(results[1]!.task.id);
    expect(results[1]!.task.id).toBeGreaterThan(results[0]!.task.id);
    expect(await store.countTasks()).toBe(2);
  });

  it('is atomic: one bad input stores nothing, and the error names its index', async () => {
    const { store, events } = await makeStore();
    const err = await expectError(
      store.enqueueMany([
        { type: 'ok', payload: {} },
        { type: 'ok', payload: {}, idempotencyKey: 'batch-key' },
        { type: 'bad', payload: [] as unknown as object },
        { type: 'ok', payload: {} },
      ]),
      'VALIDATION',
    );
    expect(err.message).toContain('inputs[2]');
    expect(err.details?.index).toBe(2);
    expect(err.details?.field).toBe('payload');
    expect(await store.countTasks()).toBe(0);
    expect(await store.getTaskByIdempotencyKey('batch-key')).toBeNull();
    expect(events).toEqual([]);
    expect(await store.lastEventId()).toBe(0);
    // The store still works, and ids were not burnt by the rolled-back batch.
    const { task } = await store.enqueue({ type: 'after', payload: {} });
    expect(task.id).toBe(1);
  });

  it('rejects something that is not a list', async () => {
    const { store } = await makeStore();
    await expectError(store.enqueueMany({} as unknown as EnqueueInput[]), 'VALIDATION');
  });
});

describe('task and result sizes', () => {
  it('refuses a payload larger than maxPayloadBytes', async () => {
    const { store } = await makeStore({ maxPayloadBytes: 1024 });
    const err = await expectError(store.enqueue({ type: 'big', payload: { blob: 'x'.repeat(2000) } }), 'VALIDATION');
    expect(err.details?.field).toBe('payload');
    expect(await store.countTasks()).toBe(0);
  });

  it('round-trips a JSON result through complete', async () => {
    const { store } = await makeStore();
    const c = await enqueueAndClaim(store);
    const done = await store.complete({ taskId: c.task.id, leaseToken: c.leaseToken, result: { list: [1, 'two', null] } });
    expect(done.result).toEqual({ list: [1, 'two', null] });
    expect((await store.getTask(c.task.id))?.result).toEqual({ list: [1, 'two', null] });
  });
});
