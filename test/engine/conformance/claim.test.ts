/**
 * Conformance suite: this suite is the definition of a driver; it runs on every driver
 * through test/helpers/drivers.ts (TASKWIRE_TEST_DRIVER picks it).
 *
 * Claiming: what a claim sets, the filters (queue, types, region, formats), the strategies
 * and concurrency limits. The SQLite claim's query plans are in test/store/sqlite/query-plans.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ClaimStrategy, EnqueueInput } from '../../../src/store/index.js';
import { T0, expectError, makeStore } from '../../helpers/drivers.js';

const ids = (claimed: { task: { id: number } }[]) => claimed.map((c) => c.task.id);

describe('claim', () => {
  it('sets RUNNING, lease, token, lockedBy, attempts and startedAt, and registers the worker', async () => {
    const { store, clock, events, probe } = await makeStore();
    const { task } = await store.enqueue({ type: 'job', payload: {} });
    clock.advance(2_000);
    const [c, ...rest] = await store.claim({ workerId: 'worker-1', leaseSeconds: 45, capabilities: { region: 'eu' } });
    expect(rest).toEqual([]);
    expect(c!.task.id).toBe(task.id);
    expect(c!.leaseUntil).toBe(T0 + 2_000 + 45_000);
    expect(c!.leaseToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(c!.task).toMatchObject({
      status: 'RUNNING',
      attempts: 1,
      leaseUntil: T0 + 47_000,
      lockedBy: 'worker-1',
      startedAt: T0 + 2_000,
      updatedAt: T0 + 2_000,
    });
    expect(await probe.leaseToken(task.id)).toBe(c!.leaseToken);
    expect(await store.getTask(task.id)).toEqual(c!.task);

    const worker = await store.getWorker('worker-1');
    expect(worker).toEqual({
      id: 'worker-1',
      capabilities: { region: 'eu' },
      status: 'ACTIVE',
      startedAt: T0 + 2_000,
      heartbeatAt: T0 + 2_000,
    });
    expect((await store.tasksLockedBy(['worker-1', 'nobody'])).map((l) => l.map((t) => t.id))).toEqual([[task.id], []]);
    const claimed = events.find((e) => e.kind === 'CLAIMED');
    expect(claimed).toMatchObject({ taskId: task.id, status: 'RUNNING', workerId: 'worker-1', queue: 'default', type: 'job' });
  });

  it('gives every claim a fresh token', async () => {
    const { store } = await makeStore();
    await store.enqueueMany(Array.from({ length: 20 }, () => ({ type: 'job', payload: {} })));
    const claimed = await store.claim({ workerId: 'w', limit: 20 });
    expect(new Set(claimed.map((c) => c.leaseToken)).size).toBe(20);
  });

  it('registers the worker and refreshes its heartbeat even when there is nothing to claim', async () => {
    const { store, clock } = await makeStore();
    expect(await store.claim({ workerId: 'idle' })).toEqual([]);
    clock.advance(10_000);
    await store.claim({ workerId: 'idle' });
    expect(await store.getWorker('idle')).toMatchObject({ status: 'ACTIVE', startedAt: T0, heartbeatAt: T0 + 10_000 });
  });

  it('takes at most limit tasks', async () => {
    const { store } = await makeStore();
    await store.enqueueMany(Array.from({ length: 7 }, () => ({ type: 'job', payload: {} })));
    expect(await store.claim({ workerId: 'w', limit: 3 })).toHaveLength(3);
    expect(await store.claim({ workerId: 'w', limit: 10 })).toHaveLength(4);
    expect(await store.claim({ workerId: 'w', limit: 10 })).toHaveLength(0);
    expect(await store.countTasks({ status: ['RUNNING'] })).toBe(7);
  });

  it('never hands the same task out twice', async () => {
    const { store } = await makeStore();
    await store.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ type: 'job', payload: {}, priority: i % 3 })));
    const seen = new Set<number>();
    for (let i = 0; i < 10; i++) {
      for (const c of await store.claim({ workerId: `w${i}`, limit: 4, strategy: 'WEIGHTED_RANDOM' })) {
        expect(seen.has(c.task.id)).toBe(false);
        seen.add(c.task.id);
      }
    }
    expect(seen.size).toBe(30);
  });

  it('claims only from its queue', async () => {
    const { store } = await makeStore();
    const { task: a } = await store.enqueue({ type: 'job', payload: {}, queue: 'alpha' });
    const { task: d } = await store.enqueue({ type: 'job', payload: {} });
    expect(ids(await store.claim({ workerId: 'w', queue: 'beta', limit: 5 }))).toEqual([]);
    expect(ids(await store.claim({ workerId: 'w', queue: 'alpha', limit: 5 }))).toEqual([a.id]);
    expect(ids(await store.claim({ workerId: 'w', limit: 5 }))).toEqual([d.id]);
  });

  it('filters by types, merging the per-type walks in strategy order', async () => {
    const { store } = await makeStore();
    const r = await store.enqueueMany([
      { type: 'a', payload: {}, priority: 5 }, // 1
      { type: 'b', payload: {}, priority: 1 }, // 2
      { type: 'c', payload: {}, priority: 0 }, // 3
      { type: 'a', payload: {}, priority: 1 }, // 4
      { type: 'b', payload: {}, priority: 9 }, // 5
    ]);
    const id = (i: number) => r[i]!.task.id;
    expect(ids(await store.claim({ workerId: 'w', types: ['a', 'b'], limit: 10, strategy: 'PRIORITY' }))).toEqual([
      id(1),
      id(3),
      id(0),
      id(4),
    ]);
    expect(await store.getTask(id(2))).toMatchObject({ status: 'QUEUED' });
  });

  it('an empty types list claims nothing', async () => {
    const { store } = await makeStore();
    await store.enqueue({ type: 'a', payload: {} });
    expect(await store.claim({ workerId: 'w', types: [] })).toEqual([]);
    expect(await store.countTasks({ status: ['QUEUED'] })).toBe(1);
  });

  it('gives a task with a region only to a worker of that region; a task without region to anyone', async () => {
    const { store } = await makeStore();
    const { task: eu } = await store.enqueue({ type: 'job', payload: {}, compatibility: { region: 'eu' } });
    const { task: us } = await store.enqueue({ type: 'job', payload: {}, compatibility: { region: 'us' } });
    const { task: any1 } = await store.enqueue({ type: 'job', payload: {} });
    const { task: any2 } = await store.enqueue({ type: 'job', payload: {} });

    // A worker without a region gets only tasks without one.
    expect(ids(await store.claim({ workerId: 'plain', limit: 1, strategy: 'FIFO' }))).toEqual([any1.id]);
    // A worker in asia gets no regional task.
    expect(ids(await store.claim({ workerId: 'asia', limit: 10, capabilities: { region: 'asia' } }))).toEqual([any2.id]);
    expect(ids(await store.claim({ workerId: 'plain', limit: 10 }))).toEqual([]);
    expect(ids(await store.claim({ workerId: 'eu', limit: 10, capabilities: { region: 'eu' } }))).toEqual([eu.id]);
    expect(ids(await store.claim({ workerId: 'us', limit: 10, capabilities: { region: 'us' } }))).toEqual([us.id]);
  });

  it('a worker that lists formats gets only tasks without a format or with a listed one', async () => {
    const { store } = await makeStore();
    const r = await store.enqueueMany([
      { type: 'job', payload: { format: 'png' } },
      { type: 'job', payload: { format: 'jpg' } },
      { type: 'job', payload: {} },
      { type: 'job', payload: { format: 'gif' } },
    ]);
    const [png, jpg, none, gif] = r.map((x) => x.task.id);
    const got = ids(await store.claim({ workerId: 'img', limit: 10, strategy: 'FIFO', capabilities: { formats: ['png', 'gif'] } }));
    expect(got).toEqual([png, none, gif]);
    expect(ids(await store.claim({ workerId: 'none', limit: 10, capabilities: { formats: [] } }))).toEqual([]);
    // A worker that lists no formats takes any format.
    expect(ids(await store.claim({ workerId: 'any', limit: 10 }))).toEqual([jpg]);
  });

  it('combines region and formats', async () => {
    const { store } = await makeStore();
    const r = await store.enqueueMany([
      { type: 'job', payload: { format: 'png' }, compatibility: { region: 'eu' } },
      { type: 'job', payload: { format: 'png' }, compatibility: { region: 'us' } },
      { type: 'job', payload: { format: 'tiff' }, compatibility: { region: 'eu' } },
    ]);
    const got = ids(await store.claim({ workerId: 'w', limit: 10, capabilities: { region: 'eu', formats: ['png'] } }));
    expect(got).toEqual([r[0]!.task.id]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['an empty workerId', { workerId: '' }],
    ['limit 0', { workerId: 'w', limit: 0 }],
    ['a fractional limit', { workerId: 'w', limit: 1.5 }],
    ['leaseSeconds 0', { workerId: 'w', leaseSeconds: 0 }],
    ['an unknown strategy', { workerId: 'w', strategy: 'RANDOM' }],
    ['capabilities that are not an object', { workerId: 'w', capabilities: 'eu' }],
    ['a region that is not a string', { workerId: 'w', capabilities: { region: 5 } }],
    ['types that are not a list', { workerId: 'w', types: 'a' }],
  ])('rejects %s with VALIDATION and claims nothing', async (_name, input) => {
    const { store } = await makeStore();
    await store.enqueue({ type: 'a', payload: {} });
    await expectError(store.claim(input as never), 'VALIDATION');
    expect(await store.countTasks({ status: ['QUEUED'] })).toBe(1);
    expect(await store.listWorkers()).toEqual([]);
  });
});

describe('claim strategies', () => {
  async function seedMixed() {
    const { store, clock } = await makeStore();
    // Ids 1..6 in creation order, with priorities that disagree with age.
    const prios = [50, 10, 50, 10, 90, 10];
    for (const priority of prios) {
      await store.enqueue({ type: 'job', payload: {}, priority });
      clock.advance(1000);
    }
    return store;
  }

  const drain = async (store: Awaited<ReturnType<typeof seedMixed>>, strategy: ClaimStrategy, limit: number) => {
    const out: number[] = [];
    for (;;) {
      const got = ids(await store.claim({ workerId: 'w', strategy, limit }));
      if (got.length === 0) return out;
      out.push(...got);
    }
  };

  it('FIFO takes the oldest first, whatever the priority', async () => {
    expect(await drain(await seedMixed(), 'FIFO', 1)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await drain(await seedMixed(), 'FIFO', 4)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('LIFO really is LIFO: the newest first, also for tasks enqueued between claims', async () => {
    const store = await seedMixed();
    expect(ids(await store.claim({ workerId: 'w', strategy: 'LIFO', limit: 2 }))).toEqual([6, 5]);
    const { task } = await store.enqueue({ type: 'job', payload: {}, priority: 99 });
    expect(ids(await store.claim({ workerId: 'w', strategy: 'LIFO', limit: 1 }))).toEqual([task.id]);
    expect(await drain(store, 'LIFO', 1)).toEqual([4, 3, 2, 1]);
  });

  it('LIFO merges several types newest first', async () => {
    const { store } = await makeStore();
    await store.enqueueMany([
      { type: 'a', payload: {} },
      { type: 'b', payload: {} },
      { type: 'a', payload: {} },
      { type: 'c', payload: {} },
      { type: 'b', payload: {} },
    ]);
    expect(ids(await store.claim({ workerId: 'w', strategy: 'LIFO', types: ['a', 'b'], limit: 10 }))).toEqual([5, 3, 2, 1]);
  });

  it('PRIORITY takes the lowest number first, then the oldest', async () => {
    expect(await drain(await seedMixed(), 'PRIORITY', 1)).toEqual([2, 4, 6, 1, 3, 5]);
    expect(await drain(await seedMixed(), 'PRIORITY', 4)).toEqual([2, 4, 6, 1, 3, 5]);
  });

  it('PRIORITY is the default strategy', async () => {
    const store = await seedMixed();
    expect(ids(await store.claim({ workerId: 'w', limit: 3 }))).toEqual([2, 4, 6]);
  });

  it('strategies skip tasks that are not due yet', async () => {
    for (const strategy of ['FIFO', 'LIFO', 'PRIORITY', 'WEIGHTED_RANDOM'] as const) {
      const { store } = await makeStore();
      await store.enqueue({ type: 'job', payload: {}, priority: 0, delaySeconds: 60 });
      const { task } = await store.enqueue({ type: 'job', payload: {}, priority: 50 });
      await store.enqueue({ type: 'job', payload: {}, priority: 0, delaySeconds: 60 });
      expect(ids(await store.claim({ workerId: 'w', strategy, limit: 5 })), strategy).toEqual([task.id]);
    }
  });

  it('WEIGHTED_RANDOM favours urgent levels by 1/(rank+1) and starves none', async () => {
    const { store } = await makeStore({ seed: 20250101 });
    const levels = [10, 50, 100];
    const perLevel = 1500;
    const inputs: EnqueueInput[] = [];
    for (let i = 0; i < perLevel; i++) for (const priority of levels) inputs.push({ type: 'job', payload: {}, priority });
    await store.enqueueMany(inputs);

    const counts = new Map<number, number>(levels.map((l) => [l, 0]));
    const draws = 1200;
    for (let i = 0; i < draws / 4; i++) {
      for (const c of await store.claim({ workerId: 'w', strategy: 'WEIGHTED_RANDOM', limit: 4 })) {
        counts.set(c.task.priority, counts.get(c.task.priority)! + 1);
      }
    }
    const observed = levels.map((l) => counts.get(l)!);
    expect(observed.reduce((a, b) => a + b, 0)).toBe(draws);
    // Most urgent most often; every level sometimes.
    expect(observed[0]!).toBeGreaterThan(observed[1]!);
    expect(observed[1]!).toBeGreaterThan(observed[2]!);
    for (const o of observed) expect(o).toBeGreaterThan(0);
    // Against the documented weights 1, 1/2, 1/3 (6/11, 3/11, 2/11): chi-square with 2
    // degrees of freedom stays below 13.8 (p = 0.001).
    const weights = levels.map((_, rank) => 1 / (rank + 1));
    const total = weights.reduce((a, b) => a + b, 0);
    const expected = weights.map((w) => (w / total) * draws);
    const chi2 = observed.reduce((sum, o, i) => sum + (o - expected[i]!) ** 2 / expected[i]!, 0);
    expect(chi2).toBeLessThan(13.8);
    // And the picks are not just PRIORITY in disguise: the least urgent level got a
    // share near its 2/11, far from zero.
    expect(observed[2]! / draws).toBeGreaterThan(0.12);
  });

  it('WEIGHTED_RANDOM takes the oldest task within the chosen level', async () => {
    const { store } = await makeStore({ seed: 7 });
    await store.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ type: 'job', payload: {}, priority: i % 2 })));
    const byLevel = new Map<number, number[]>();
    for (let i = 0; i < 20; i++) {
      const [c] = await store.claim({ workerId: 'w', strategy: 'WEIGHTED_RANDOM' });
      const list = byLevel.get(c!.task.priority) ?? [];
      list.push(c!.task.id);
      byLevel.set(c!.task.priority, list);
    }
    for (const list of byLevel.values()) expect(list).toEqual([...list].sort((a, b) => a - b));
    expect([...byLevel.values()].flat()).toHaveLength(20);
  });

  it('WEIGHTED_RANDOM reaches a level whose only due tasks sit behind tasks that are not due', async () => {
    const { store } = await makeStore({ seed: 3 });
    // The most urgent level has only future tasks; it must not block the claim.
    await store.enqueue({ type: 'job', payload: {}, priority: 1, delaySeconds: 600 });
    const { task } = await store.enqueue({ type: 'job', payload: {}, priority: 500 });
    expect(ids(await store.claim({ workerId: 'w', strategy: 'WEIGHTED_RANDOM', limit: 3 }))).toEqual([task.id]);
  });

  it('WEIGHTED_RANDOM still finds due work behind more than 32 priority levels of tasks that are not due', async () => {
    const { store } = await makeStore({ seed: 11 });
    // 40 urgent levels, each holding only a task scheduled for later (e.g. retries in backoff).
    await store.enqueueMany(Array.from({ length: 40 }, (_, p) => ({ type: 'job', payload: {}, priority: p, delaySeconds: 3600 })));
    const { task } = await store.enqueue({ type: 'job', payload: {}, priority: 1000 });
    // PRIORITY finds it; WEIGHTED_RANDOM must not starve it either.
    expect(ids(await store.claim({ workerId: 'w', strategy: 'WEIGHTED_RANDOM', limit: 5 }))).toEqual([task.id]);
  });

  it('WEIGHTED_RANDOM still finds work for a worker whose region matches none of the first 32 levels', async () => {
    const { store } = await makeStore({ seed: 12 });
    await store.enqueueMany(
      Array.from({ length: 40 }, (_, p) => ({ type: 'job', payload: {}, priority: p, compatibility: { region: 'eu' } })),
    );
    const { task } = await store.enqueue({ type: 'job', payload: {}, priority: 1000 });
    const claimed = await store.claim({ workerId: 'us-1', strategy: 'WEIGHTED_RANDOM', capabilities: { region: 'us' } });
    expect(ids(claimed)).toEqual([task.id]);
  });
});

describe('concurrency limits', () => {
  it('a queue-wide limit caps the RUNNING count, and frees up as tasks finish', async () => {
    const { store } = await makeStore();
    await store.enqueueMany(Array.from({ length: 10 }, () => ({ type: 'job', payload: {} })));
    expect(await store.setConcurrencyLimit({ queue: 'default', type: null, limit: 3 })).toEqual({
      queue: 'default',
      type: null,
      limit: 3,
    });
    const first = await store.claim({ workerId: 'w1', limit: 10 });
    expect(first).toHaveLength(3);
    expect(await store.claim({ workerId: 'w2', limit: 10 })).toHaveLength(0);
    await store.complete({ taskId: first[0]!.task.id, leaseToken: first[0]!.leaseToken });
    expect(await store.claim({ workerId: 'w2', limit: 10 })).toHaveLength(1);
    expect(await store.countTasks({ status: ['RUNNING'] })).toBe(3);
  });

  it('a queue-wide limit only counts its own queue', async () => {
    const { store } = await makeStore();
    await store.enqueueMany([
      { type: 'job', payload: {}, queue: 'other' },
      { type: 'job', payload: {}, queue: 'other' },
      { type: 'job', payload: {} },
      { type: 'job', payload: {} },
    ]);
    await store.setConcurrencyLimit({ queue: 'default', type: null, limit: 1 });
    expect(await store.claim({ workerId: 'w', queue: 'other', limit: 5 })).toHaveLength(2);
    expect(await store.claim({ workerId: 'w', limit: 5 })).toHaveLength(1);
  });

  it('a per-type limit caps that type and the claim fills up with other types', async () => {
    const { store } = await makeStore();
    await store.enqueueMany([
      ...Array.from({ length: 5 }, () => ({ type: 'heavy', payload: {}, priority: 1 })),
      ...Array.from({ length: 5 }, () => ({ type: 'light', payload: {}, priority: 2 })),
    ]);
    await store.setConcurrencyLimit({ queue: 'default', type: 'heavy', limit: 2 });
    const claimed = await store.claim({ workerId: 'w', limit: 6 });
    const types = claimed.map((c) => c.task.type);
    expect(types.filter((t) => t === 'heavy')).toHaveLength(2);
    expect(types.filter((t) => t === 'light')).toHaveLength(4);
    // Later claims still respect the running count.
    const more = await store.claim({ workerId: 'w', limit: 10 });
    expect(more.map((c) => c.task.type)).toEqual(['light']);
    expect(await store.countTasks({ status: ['RUNNING'], type: ['heavy'] })).toBe(2);
  });

  it('per-type limits hold for every strategy and with a types filter', async () => {
    for (const strategy of ['FIFO', 'LIFO', 'PRIORITY', 'WEIGHTED_RANDOM'] as const) {
      const { store } = await makeStore();
      await store.enqueueMany(Array.from({ length: 12 }, (_, i) => ({ type: i % 2 ? 'a' : 'b', payload: {}, priority: i % 3 })));
      await store.setConcurrencyLimit({ queue: 'default', type: 'a', limit: 1 });
      await store.setConcurrencyLimit({ queue: 'default', type: 'b', limit: 2 });
      const claimed = await store.claim({ workerId: 'w', limit: 12, strategy, types: ['a', 'b'] });
      expect(claimed.filter((c) => c.task.type === 'a'), strategy).toHaveLength(1);
      expect(claimed.filter((c) => c.task.type === 'b'), strategy).toHaveLength(2);
    }
  });

  it('a limit of 0 pauses the queue, and a null limit removes the limit', async () => {
    const { store } = await makeStore();
    await store.enqueueMany(Array.from({ length: 4 }, () => ({ type: 'job', payload: {} })));
    await store.setConcurrencyLimit({ queue: 'default', type: null, limit: 0 });
    await store.setConcurrencyLimit({ queue: 'default', type: 'job', limit: 1 });
    expect(await store.listConcurrencyLimits()).toEqual([
      { queue: 'default', type: null, limit: 0 },
      { queue: 'default', type: 'job', limit: 1 },
    ]);
    expect(await store.claim({ workerId: 'w', limit: 4 })).toHaveLength(0);

    expect(await store.setConcurrencyLimit({ queue: 'default', type: null, limit: null })).toEqual({
      queue: 'default',
      type: null,
      limit: null,
    });
    expect(await store.claim({ workerId: 'w', limit: 4 })).toHaveLength(1);
    await store.setConcurrencyLimit({ queue: 'default', type: 'job', limit: null });
    expect(await store.listConcurrencyLimits()).toEqual([]);
    expect(await store.claim({ workerId: 'w', limit: 4 })).toHaveLength(3);
  });

  it('updating a limit replaces the old value', async () => {
    const { store } = await makeStore();
    await store.setConcurrencyLimit({ queue: 'q', type: 't', limit: 5 });
    await store.setConcurrencyLimit({ queue: 'q', type: 't', limit: 2 });
    expect(await store.listConcurrencyLimits()).toEqual([{ queue: 'q', type: 't', limit: 2 }]);
  });

  it('rejects a negative or fractional limit', async () => {
    const { store } = await makeStore();
    await expectError(store.setConcurrencyLimit({ queue: 'q', type: null, limit: -1 }), 'VALIDATION');
    await expectError(store.setConcurrencyLimit({ queue: 'q', type: null, limit: 1.5 }), 'VALIDATION');
    await expectError(store.setConcurrencyLimit({ queue: '', type: null, limit: 1 }), 'VALIDATION');
    expect(await store.listConcurrencyLimits()).toEqual([]);
  });
});
