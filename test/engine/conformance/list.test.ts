/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * Reads: listTasks (keyset pages in every order, filters, cursors), countTasks, getTasks,
 * logs and stats.
 */
import { describe, expect, it } from 'vitest';
import type { Task, TaskFilter, TaskOrder, TaskStore } from '../../../src/store/index.js';
import { T0, expectError, makeStore, type Clock } from '../../helpers/drivers.js';

const cursorOf = (values: unknown) => Buffer.from(JSON.stringify(values)).toString('base64url');

/** 40 tasks with repeating priorities and shared timestamps, some of them touched later. */
async function seed(store: TaskStore, clock: Clock) {
  for (let i = 0; i < 40; i++) {
    await store.enqueue({
      type: i % 2 ? 'odd' : 'even',
      queue: i % 5 === 0 ? 'side' : 'default',
      priority: [5, 1, 3, 1][i % 4]!,
      payload: i % 3 === 0 ? { format: 'png' } : i % 3 === 1 ? { format: 'jpg' } : {},
      compatibility: i % 4 === 0 ? { region: 'eu' } : {},
      correlationId: i < 10 ? 'batch-a' : null,
    });
    if (i % 3 === 2) clock.advance(1_000); // three tasks share each created_at
  }
  // Touch some tasks later so that updated_at disagrees with creation order.
  clock.advance(10_000);
  await store.claim({ workerId: 'w', limit: 6, strategy: 'LIFO' });
}

function sortKey(order: TaskOrder) {
  const get = (t: Task) => (order.field === 'PRIORITY' ? t.priority : order.field === 'UPDATED_AT' ? t.updatedAt : t.id);
  const sign = order.direction === 'ASC' ? 1 : -1;
  return (a: Task, b: Task) => sign * (get(a) - get(b) || a.id - b.id);
}

async function walk(store: TaskStore, orderBy: TaskOrder, first: number, filter?: TaskFilter) {
  const seen: Task[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await store.listTasks({ filter, orderBy, first, after });
    seen.push(...page.items.map((i) => i.node));
    if (!page.hasNextPage) {
      return seen;
    }
    expect(page.items).toHaveLength(first);
    after = page.items.at(-1)!.cursor;
  }
  throw new Error('pagination did not end');
}

describe('listTasks', () => {
  const orders: TaskOrder[] = (['CREATED_AT', 'PRIORITY', 'UPDATED_AT'] as const).flatMap((field) =>
    (['ASC', 'DESC'] as const).map((direction) => ({ field, direction })),
  );

  it.each(orders.map((o) => [`${o.field} ${o.direction}`, o] as const))(
    'keyset pagination by %s visits every row once in order',
    async (_name, orderBy) => {
      const { store, clock } = await makeStore();
      await seed(store, clock);
      const all = (await store.listTasks({ orderBy, first: 500 })).items.map((i) => i.node);
      expect(all).toHaveLength(40);
      expect(all.map((t) => t.id)).toEqual([...all].sort(sortKey(orderBy)).map((t) => t.id));
      for (const first of [1, 4, 7, 40]) {
        const walked = await walk(store, orderBy, first);
        expect(walked.map((t) => t.id), `page size ${first}`).toEqual(all.map((t) => t.id));
        expect(new Set(walked.map((t) => t.id)).size).toBe(40);
      }
      // With a filter too.
      const filter: TaskFilter = { type: ['odd'] };
      const filtered = await walk(store, orderBy, 3, filter);
      expect(filtered.map((t) => t.id)).toEqual(all.filter((t) => t.type === 'odd').map((t) => t.id));
    },
  );

  it('defaults to newest first, 50 per page', async () => {
    const { store } = await makeStore();
    await store.enqueueMany(Array.from({ length: 60 }, () => ({ type: 'job', payload: {} })));
    const page = await store.listTasks({});
    expect(page.items).toHaveLength(50);
    expect(page.hasNextPage).toBe(true);
    expect(page.items[0]!.node.id).toBe(60);
  });

  it('applies each filter, and countTasks agrees', async () => {
    const { store, clock } = await makeStore();
    await seed(store, clock);
    const all = (await store.listTasks({ first: 500, orderBy: { field: 'CREATED_AT', direction: 'ASC' } })).items.map((i) => i.node);
    const cases: [TaskFilter, (t: Task) => boolean][] = [
      [{ status: ['RUNNING'] }, (t) => t.status === 'RUNNING'],
      [{ status: ['QUEUED', 'RUNNING'] }, () => true],
      [{ queue: 'side' }, (t) => t.queue === 'side'],
      [{ type: ['even'] }, (t) => t.type === 'even'],
      [{ region: ['eu'] }, (t) => t.region === 'eu'],
      [{ format: ['png', 'jpg'] }, (t) => t.format === 'png' || t.format === 'jpg'],
      [{ format: ['png'], type: ['odd'] }, (t) => t.format === 'png' && t.type === 'odd'],
      [{ correlationId: 'batch-a' }, (t) => t.correlationId === 'batch-a'],
      [{ createdAfter: T0 + 3_000 }, (t) => t.createdAt > T0 + 3_000],
      [{ createdBefore: T0 + 3_000 }, (t) => t.createdAt < T0 + 3_000],
      [{ createdAfter: T0 + 1_000, createdBefore: T0 + 5_000, queue: 'default' }, (t) => t.createdAt > T0 + 1_000 && t.createdAt < T0 + 5_000 && t.queue === 'default'],
      [{ status: [] }, () => false],
      [{ status: ['FAILED'] }, () => false],
    ];
    for (const [filter, keep] of cases) {
      const expected = all.filter(keep).map((t) => t.id);
      const got = (await store.listTasks({ filter, first: 500, orderBy: { field: 'CREATED_AT', direction: 'ASC' } })).items.map(
        (i) => i.node.id,
      );
      expect(got, JSON.stringify(filter)).toEqual(expected);
      expect(await store.countTasks(filter), JSON.stringify(filter)).toBe(expected.length);
    }
    // Sanity: the filters really select subsets.
    expect(await store.countTasks({ status: ['RUNNING'] })).toBe(6);
    expect(await store.countTasks({ correlationId: 'batch-a' })).toBe(10);
    expect(await store.countTasks()).toBe(40);
  });

  it('filters by idempotencyKey', async () => {
    const { store } = await makeStore();
    await store.enqueue({ type: 'a', payload: {}, idempotencyKey: 'k1' });
    const { task } = await store.enqueue({ type: 'b', payload: {}, idempotencyKey: 'k2' });
    expect((await store.listTasks({ filter: { idempotencyKey: 'k2' } })).items.map((i) => i.node.id)).toEqual([task.id]);
  });

  it.each<[string, unknown]>([
    ['garbage', 'not a cursor!'],
    ['base64 of an object', cursorOf({ id: 1 })],
    ['base64 of an empty list', cursorOf([])],
    ['base64 of a list of objects', cursorOf([{}])],
  ])('a bad cursor (%s) is a VALIDATION error', async (_name, after) => {
    const { store } = await makeStore();
    await store.enqueue({ type: 'a', payload: {} });
    const err = await expectError(store.listTasks({ after: after as string }), 'VALIDATION');
    expect(err.details?.field).toBe('after');
  });

  it('a cursor of the wrong shape for the order is a VALIDATION error', async () => {
    const { store } = await makeStore();
    await store.enqueueMany([{ type: 'a', payload: {} }, { type: 'a', payload: {} }]);
    const page = await store.listTasks({ first: 1 });
    await expectError(store.listTasks({ after: page.items[0]!.cursor, orderBy: { field: 'PRIORITY', direction: 'ASC' } }), 'VALIDATION');
  });

  it('a forged cursor holding text instead of a number is a VALIDATION error', async () => {
    const { store } = await makeStore();
    await store.enqueueMany([{ type: 'a', payload: {} }, { type: 'a', payload: {} }]);
    // A DESC walk must not restart from the top, nor an ASC walk stop, because of a forged cursor.
    await expectError(store.listTasks({ after: cursorOf(['9']) }), 'VALIDATION');
    await expectError(store.listTasks({ after: cursorOf(['x', 1]), orderBy: { field: 'PRIORITY', direction: 'ASC' } }), 'VALIDATION');
  });

  it('rejects a bad page size or filter', async () => {
    const { store } = await makeStore();
    await expectError(store.listTasks({ first: -1 }), 'VALIDATION');
    await expectError(store.listTasks({ first: 501 }), 'VALIDATION');
    await expectError(store.listTasks({ first: 2.5 }), 'VALIDATION');
    await expectError(store.listTasks({ filter: { status: ['DONE' as never] } }), 'VALIDATION');
    await expectError(store.listTasks({ filter: { createdAfter: Number.NaN } }), 'VALIDATION');
    await expectError(store.countTasks({ status: ['DONE' as never] }), 'VALIDATION');
  });

  it('getTasks keeps the order asked for and gives null for unknown ids', async () => {
    const { store } = await makeStore();
    const [a, b] = await store.enqueueMany([{ type: 'a', payload: {} }, { type: 'b', payload: {} }]);
    const got = await store.getTasks([b!.task.id, 999, a!.task.id]);
    expect(got.map((t) => t?.type ?? null)).toEqual(['b', null, 'a']);
    expect(await store.getTask(999)).toBeNull();
  });
});

describe('logs', () => {
  it('listLogs pages through a task’s logs in order', async () => {
    const { store } = await makeStore();
    const { task } = await store.enqueue({ type: 'a', payload: {} });
    const { task: other } = await store.enqueue({ type: 'b', payload: {} });
    for (let i = 0; i < 7; i++) {
      await store.appendLog({ taskId: task.id, level: 'INFO', message: `line ${i}` });
      await store.appendLog({ taskId: other.id, level: 'DEBUG', message: `other ${i}` });
    }
    const messages: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await store.listLogs(task.id, { first: 3, after });
      pages++;
      messages.push(...page.items.map((i) => i.node.message));
      if (!page.hasNextPage) break;
      after = page.items.at(-1)!.cursor;
    }
    expect(messages).toEqual(Array.from({ length: 7 }, (_, i) => `line ${i}`));
    expect(pages).toBe(3);
    expect((await store.listLogs(task.id)).items).toHaveLength(7);
    await expectError(store.listLogs(task.id, { after: 'garbage!' }), 'VALIDATION');
  });

  it('logsForTasks returns the first perTask logs of each task, in the order asked', async () => {
    const { store } = await makeStore();
    const [a, b, c] = (await store.enqueueMany([1, 2, 3].map(() => ({ type: 't', payload: {} })))).map((r) => r.task.id);
    for (let i = 0; i < 4; i++) {
      await store.appendLog({ taskId: a!, level: 'INFO', message: `a${i}` });
      if (i < 2) await store.appendLog({ taskId: b!, level: 'ERROR', message: `b${i}`, details: { i } });
    }
    const got = await store.logsForTasks([b!, c!, a!, 404], 3);
    expect(got.map((l) => l.map((x) => x.message))).toEqual([['b0', 'b1'], [], ['a0', 'a1', 'a2'], []]);
    expect(got[0]![1]).toMatchObject({ level: 'ERROR', details: { i: 1 }, taskId: b });
  });
});

describe('stats', () => {
  it('counts by status and by type, and reports the oldest queued age and recent outcomes', async () => {
    const { store, clock } = await makeStore();
    await store.enqueueMany([
      { type: 'a', payload: {} },
      { type: 'a', payload: {} },
      { type: 'b', payload: {} },
      { type: 'b', payload: {}, queue: 'other' },
    ]);
    clock.advance(1_000);
    await store.enqueue({ type: 'c', payload: {}, dependsOn: [1] });
    const claimed = await store.claim({ workerId: 'w', limit: 3, strategy: 'FIFO' }); // ids 1, 2, 3
    await store.complete({ taskId: claimed[0]!.task.id, leaseToken: claimed[0]!.leaseToken }); // 1 ok, unblocks 5
    await store.fail({ taskId: claimed[1]!.task.id, leaseToken: claimed[1]!.leaseToken, error: 'x', retryable: false }); // 2 failed
    clock.advance(60_000);
    await store.enqueue({ type: 'a', payload: {} }); // 6, queued now
    await store.cancel(6);

    const s = await store.stats();
    expect(s.queue).toBeNull();
    expect(s.counts).toEqual([
      { status: 'BLOCKED', count: 0 },
      { status: 'QUEUED', count: 2 },
      { status: 'RUNNING', count: 1 },
      { status: 'SUCCEEDED', count: 1 },
      { status: 'FAILED', count: 1 },
      { status: 'CANCELLED', count: 1 },
    ]);
    expect(s.byType).toEqual([
      { type: 'a', queued: 0, running: 0, succeeded: 1, failed: 1 },
      { type: 'b', queued: 1, running: 1, succeeded: 0, failed: 0 },
      { type: 'c', queued: 1, running: 0, succeeded: 0, failed: 0 },
    ]);
    // The oldest queued task (4, in 'other') was created at T0; now is T0 + 61s.
    expect(s.oldestQueuedAgeSeconds).toBe(61);
    expect(s.activeWorkers).toBe(1);
    // The completion and failure happened 60 s ago: still inside the last minute.
    expect(s.succeededLastMinute).toBe(1);
    expect(s.failedLastMinute).toBe(1);
    clock.advance(1);
    const later = await store.stats();
    expect(later.succeededLastMinute).toBe(0);
    expect(later.failedLastMinute).toBe(0);
  });

  it('restricts to one queue when asked', async () => {
    const { store, clock } = await makeStore();
    await store.enqueue({ type: 'a', payload: {}, queue: 'q1' });
    clock.advance(5_000);
    await store.enqueue({ type: 'b', payload: {}, queue: 'q2' });
    await store.enqueue({ type: 'b', payload: {}, queue: 'q2' });
    clock.advance(5_000);
    const s = await store.stats('q2');
    expect(s.queue).toBe('q2');
    expect(s.counts.find((c) => c.status === 'QUEUED')?.count).toBe(2);
    expect(s.byType.map((t) => t.type)).toEqual(['b']);
    expect(s.oldestQueuedAgeSeconds).toBe(5);
    expect((await store.stats('q1')).oldestQueuedAgeSeconds).toBe(10);
    expect((await store.stats('empty')).oldestQueuedAgeSeconds).toBeNull();
  });
});
