/**
 * Subscriptions over a real port with graphql-ws (and one over SSE), and the seams that
 * are only reachable deterministically in-process (through yoga's envelop pipeline, the
 * same one the WebSocket server runs).
 */
import type { ExecutionResult } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';
import { TASK_EVENT_KINDS, taskForEvent } from '../../src/graphql/subscriptions.js';
import type { StoredEvent, TaskStore } from '../../src/store/index.js';
import { collect, makeApp, stopApps, waitFor, wsClient, type TestApp } from '../helpers/app.js';

afterEach(stopApps);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the bus has more listeners than `before`: the subscription is live. */
const untilLive = (t: TestApp, before: number, what = 'the subscription to go live') =>
  waitFor(() => t.store.bus.listenerCount > before, what);

/** Waits until the bus is back to `count` listeners: the server let go of the subscription. */
const untilReleased = (t: TestApp, count: number) =>
  waitFor(() => t.store.bus.listenerCount === count, `the bus to be back to ${count} listeners (has ${t.store.bus.listenerCount})`);

interface EventRow {
  cursor: string;
  kind: string;
  task: { id: string };
}

const EVENTS = `subscription($after: String, $filter: TaskFilter) {
  taskEvents(after: $after, filter: $filter) { cursor kind at task { id status } }
}`;

const gidNum = (id: string) => Number(Buffer.from(id, 'base64').toString('utf8').split(':')[1]);

/** The task events of the outbox after `after`, as the subscription should deliver them. */
async function outboxAfter(t: TestApp, after: number) {
  const rows = await t.store.eventsAfter(after, 100_000);
  return rows.filter((e) => TASK_EVENT_KINDS.has(e.kind)).map((e) => ({ cursor: String(e.id), kind: e.kind, taskId: e.taskId }));
}

const asRows = (results: { data?: { taskEvents: EventRow } | null }[]) =>
  results.map((r) => {
    const e = r.data!.taskEvents;
    return { cursor: e.cursor, kind: e.kind, taskId: gidNum(e.task.id) };
  });

/** Enqueue, claim, progress, complete: four task events (and a WORKER_UPDATED the first time). */
async function lifecycle(t: TestApp, type: string, workerId = 'w1') {
  const e = await t.ok(`mutation($type: String!) { enqueueTask(input: { type: $type, payload: {} }) { task { id } } }`, { type });
  const id = e.enqueueTask.task.id as string;
  const c = await t.ok(`mutation($w: String!, $type: String!) { claimTasks(input: { workerId: $w, types: [$type] }) { leaseToken task { id } } }`, {
    w: workerId,
    type,
  });
  expect(c.claimTasks[0].task.id).toBe(id);
  const token = c.claimTasks[0].leaseToken as string;
  await t.ok(`mutation($id: ID!, $tok: String!) { reportProgress(input: { taskId: $id, leaseToken: $tok, progress: 0.5 }) { id } }`, {
    id,
    tok: token,
  });
  await t.ok(`mutation($id: ID!, $tok: String!) { completeTask(input: { taskId: $id, leaseToken: $tok, result: { ok: true } }) { id } }`, {
    id,
    tok: token,
  });
  return id;
}

/** Runs a subscription in-process through yoga's envelop pipeline; the test pulls each result. */
async function subscribeInProcess(t: TestApp, query: string, variables?: Record<string, unknown>) {
  const env = t.app.yoga.getEnveloped({});
  const result = await env.subscribe({
    schema: env.schema,
    document: env.parse(query),
    variableValues: variables,
    contextValue: await env.contextFactory(),
  });
  if (!(Symbol.asyncIterator in Object(result))) throw new Error(`not a stream: ${JSON.stringify(result)}`);
  return result as AsyncGenerator<ExecutionResult<any>>;
}

const TIMEOUT = Symbol('timeout');
function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

describe('taskEvents over graphql-ws', () => {
  it('delivers every event of a task in order, with increasing cursors', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const base = t.store.bus.listenerCount;
    const sub = collect(client, EVENTS);
    await untilLive(t, base);

    const id = await lifecycle(t, 'job');
    // A sentinel: once it arrives, everything before it has arrived too.
    const sentinel = (await t.ok(`mutation { enqueueTask(input: { type: "sentinel", payload: {} }) { task { id } } }`)).enqueueTask.task.id;
    await sub.waitForCount(5);
    const rows = sub.results.map((r) => r.data!.taskEvents as EventRow);
    expect(rows.map((r) => [r.kind, r.task.id])).toEqual([
      ['ENQUEUED', id],
      ['CLAIMED', id],
      ['PROGRESS', id],
      ['SUCCEEDED', id],
      ['ENQUEUED', sentinel],
    ]);
    const cursors = rows.map((r) => Number(r.cursor));
    for (let i = 1; i < cursors.length; i++) expect(cursors[i]).toBeGreaterThan(cursors[i - 1]!);
    // The cursors are the outbox ids (WORKER_UPDATED, LOG_ADDED in between are not task events).
    expect(asRows(sub.results)).toEqual(await outboxAfter(t, cursors[0]! - 1));
    expect(sub.errors).toEqual([]);
  });

  it('a client that reconnects with its last cursor gets exactly what it missed, then live events', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const base = t.store.bus.listenerCount;

    // 1. Connected: one task's lifecycle.
    const first = wsClient(wsUrl);
    const sub1 = collect(first, EVENTS);
    await untilLive(t, base);
    await lifecycle(t, 'a');
    await sub1.waitForCount(4);
    const last = sub1.results[3]!.data!.taskEvents.cursor as string;
    expect(sub1.results.map((r) => r.data!.taskEvents.kind)).toEqual(['ENQUEUED', 'CLAIMED', 'PROGRESS', 'SUCCEEDED']);

    // 2. Disconnected: events go on (task events mixed with logs and worker updates).
    await first.dispose();
    await untilReleased(t, base);
    await lifecycle(t, 'b', 'w2');
    const c = (await t.ok(`mutation { enqueueTask(input: { type: "c", payload: {}, maxAttempts: 1 }) { task { id } } }`)).enqueueTask.task.id;
    await t.ok(`mutation($id: ID!) { appendTaskLog(input: { taskId: $id, level: INFO, message: "hi" }) { id } }`, { id: c });
    await t.ok(`mutation($id: ID!) { cancelTask(id: $id) { id } }`, { id: c });
    const missed = await outboxAfter(t, Number(last));
    expect(missed.map((m) => m.kind)).toEqual(['ENQUEUED', 'CLAIMED', 'PROGRESS', 'SUCCEEDED', 'ENQUEUED', 'CANCELLED']);

    // 3. Reconnected with the last cursor: the missed ones, in order, then live ones.
    const second = wsClient(wsUrl);
    const live = t.store.bus.listenerCount;
    const sub2 = collect(second, EVENTS, { after: last });
    await sub2.waitForCount(missed.length);
    expect(asRows(sub2.results)).toEqual(missed);
    await untilLive(t, live);
    await lifecycle(t, 'd', 'w3');
    await sub2.waitForCount(missed.length + 4);
    const all = await outboxAfter(t, Number(last));
    expect(all).toHaveLength(missed.length + 4);
    expect(asRows(sub2.results)).toEqual(all);
    expect(sub2.errors).toEqual([]);
  });

  it('has no gap and no duplicate at the seam while writes keep landing during replay', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    // More than one replay page (500 rows) behind.
    await t.store.enqueueMany(Array.from({ length: 1200 }, (_, i) => ({ type: 'before', payload: { i } })));
    let stop = false;
    let written = 0;
    const writer = (async () => {
      while (!stop && written < 2000) {
        await t.store.enqueue({ type: 'during', payload: { written } });
        written++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const client = wsClient(wsUrl);
    const sub = collect(client, `subscription($after: String) { taskEvents(after: $after) { cursor kind task { id } } }`, { after: '0' });
    await waitFor(() => written >= 200 && sub.results.length >= 1300, 'replay and live events', 20_000);
    stop = true;
    await writer;
    const sentinel = await t.store.enqueue({ type: 'sentinel', payload: {} });
    const expected = await outboxAfter(t, 0);
    expect(expected[expected.length - 1]!.taskId).toBe(sentinel.task.id);
    await sub.waitForCount(expected.length, 20_000);
    expect(asRows(sub.results)).toEqual(expected);
    expect(sub.errors).toEqual([]);
  });

  it('filters by status, type and region', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const base = t.store.bus.listenerCount;
    const byType = collect(client, EVENTS, { filter: { type: ['render'], status: ['QUEUED'] } });
    const byRegion = collect(client, EVENTS, { filter: { region: ['eu'] } });
    await untilLive(t, base + 1, 'both subscriptions to go live');
    const eu = (await t.store.enqueue({ type: 'render', payload: {}, compatibility: { region: 'eu' } })).task;
    const us = (await t.store.enqueue({ type: 'render', payload: {}, compatibility: { region: 'us' } })).task;
    await t.store.enqueue({ type: 'email', payload: {}, compatibility: { region: 'us' } });
    const claimed = await t.store.claim({ workerId: 'w', types: ['render'], capabilities: { region: 'eu' }, limit: 5 });
    expect(claimed.map((c) => c.task.id)).toEqual([eu.id]);
    const euMail = (await t.store.enqueue({ type: 'email', payload: {}, compatibility: { region: 'eu' } })).task;
    const sentinel = (await t.store.enqueue({ type: 'render', payload: {}, compatibility: { region: 'eu' } })).task;
    await byType.waitForCount(3);
    await byRegion.waitForCount(4);
    const ids = (c: typeof byType) => c.results.map((r) => [r.data!.taskEvents.kind, gidNum(r.data!.taskEvents.task.id)]);
    expect(ids(byType)).toEqual([
      ['ENQUEUED', eu.id],
      ['ENQUEUED', us.id],
      ['ENQUEUED', sentinel.id],
    ]);
    expect(ids(byRegion)).toEqual([
      ['ENQUEUED', eu.id],
      ['CLAIMED', eu.id],
      ['ENQUEUED', euMail.id],
      ['ENQUEUED', sentinel.id],
    ]);
  });
});

describe('taskEvents seams, in-process', () => {
  it('does not lose an event published while the replay read is in flight', async () => {
    const t = await makeApp();
    await t.store.enqueue({ type: 'old', payload: {} });
    const after = await t.store.lastEventId();
    const it = await subscribeInProcess(t, `subscription($a: String) { taskEvents(after: $a) { cursor kind task { type } } }`, {
      a: String(after),
    });
    // The first pull starts the replay; a write lands before the replay's read comes back.
    const pending = it.next();
    const written = t.store.enqueue({ type: 'new', payload: {} });
    const first = await within(pending, 3000);
    await written;
    expect(first, 'the event written during the replay was never delivered').not.toBe(TIMEOUT);
    expect((first as IteratorResult<ExecutionResult<any>>).value.data.taskEvents).toEqual({
      cursor: String(after + 1),
      kind: 'ENQUEUED',
      task: { type: 'new' },
    });
    await it.return?.(undefined);
  });

  it('closes a subscription that falls too far behind with SLOW_CONSUMER, and lets go of the bus', async () => {
    const t = await makeApp({ subscriptionBuffer: 5 });
    const base = t.store.bus.listenerCount;
    const it = await subscribeInProcess(t, `subscription { taskEvents { cursor } }`);
    const first = it.next();
    await untilLive(t, base);
    for (let i = 0; i < 20; i++) await t.store.enqueue({ type: 'x', payload: {} });
    expect((await first).value.data.taskEvents.cursor).toBe('1');
    let code: unknown;
    try {
      for (let i = 0; i < 10; i++) {
        const r = await it.next();
        if (r.done) break;
        if (r.value.errors) {
          code = r.value.errors[0]?.extensions?.code;
          break;
        }
      }
    } catch (e) {
      code = (e as { extensions?: { code?: string } }).extensions?.code;
    }
    expect(code).toBe('SLOW_CONSUMER');
    await untilReleased(t, base);
  });
});

/** Counts the store's getTask calls for one task id (the read behind each task event). */
/** Counts the reads of each task, one by one (getTask) or in a batch (getTasks); `queries` counts the calls. */
function countReads(t: TestApp): ((id: number) => number) & { queries: () => number } {
  const calls: number[] = [];
  let queries = 0;
  const getTask = t.store.getTask.bind(t.store);
  const getTasks = t.store.getTasks.bind(t.store);
  t.store.getTask = (id: number) => {
    calls.push(id);
    queries++;
    return getTask(id);
  };
  t.store.getTasks = (ids: readonly number[]) => {
    calls.push(...ids);
    queries++;
    return getTasks(ids);
  };
  return Object.assign((id: number) => calls.filter((c) => c === id).length, { queries: () => queries });
}

describe('taskEvents: one read per event, never a stale one', () => {
  it('subscriptions that receive the same event together share one read of the task', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const reads = countReads(t);
    const base = t.store.bus.listenerCount;
    const subs = [wsClient(wsUrl), wsClient(wsUrl), wsClient(wsUrl)].map((c) => collect(c, EVENTS));
    await untilLive(t, base + 2, 'three subscriptions to go live');
    const { task } = await t.store.enqueue({ type: 'shared', payload: {} });
    for (const s of subs) await s.waitForCount(1);
    for (const s of subs) expect(s.results[0]!.data!.taskEvents).toMatchObject({ kind: 'ENQUEUED', task: { status: 'QUEUED' } });
    expect(reads(task.id)).toBe(1);
  });

  /** Two in-process subscriptions, both live and both past a first event; `ready` waits for the next one, `busy` does not. */
  async function twoLive(t: TestApp) {
    const base = t.store.bus.listenerCount;
    const q = `subscription { taskEvents { kind task { id status } } }`;
    const ready = await subscribeInProcess(t, q);
    const busy = await subscribeInProcess(t, q);
    const a = ready.next();
    const b = busy.next();
    await untilLive(t, base + 1, 'both subscriptions to go live');
    const { task: warm } = await t.store.enqueue({ type: 'warm', payload: {} });
    await a;
    await b;
    return { ready, busy, warm };
  }

  it('subscriptions waiting together for an event share one read (in-process)', async () => {
    const t = await makeApp();
    const reads = countReads(t);
    const { ready, busy, warm } = await twoLive(t);
    expect(reads(warm.id)).toBe(1);
    await ready.return?.(undefined);
    await busy.return?.(undefined);
  });

  it('a subscription that maps the event after a newer write reads the task again and sees that write', async () => {
    const t = await makeApp();
    const reads = countReads(t);
    const { ready, busy } = await twoLive(t);
    const next = ready.next();
    const { task } = await t.store.enqueue({ type: 'x', payload: {} });
    expect((await next).value.data.taskEvents).toMatchObject({ kind: 'ENQUEUED', task: { status: 'QUEUED' } });
    await t.store.cancel(task.id, 'stop');
    // `busy` was not waiting: it maps the ENQUEUED event only now, after the cancel.
    expect((await busy.next()).value.data.taskEvents).toMatchObject({ kind: 'ENQUEUED', task: { status: 'CANCELLED' } });
    expect(reads(task.id)).toBe(2);
    await ready.return?.(undefined);
    await busy.return?.(undefined);
  });

  it('a subscriber that is behind reads the tasks of the events waiting for it together, each event with its own task', async () => {
    const t = await makeApp();
    const created = await t.store.enqueueMany(Array.from({ length: 300 }, (_, i) => ({ type: `behind-${i % 3}`, payload: { i } })));
    const reads = countReads(t);
    const sub = await subscribeInProcess(t, `subscription { taskEvents(after: "0") { kind cursor task { id type } } }`);
    const got: { kind: string; task: { id: string; type: string } }[] = [];
    for (let i = 0; i < 300; i++) got.push((await sub.next()).value.data.taskEvents);
    await sub.return?.(undefined);
    // Broken (one read per event), it would take 300 queries.
    expect(reads.queries()).toBeLessThanOrEqual(3);
    expect(got.map((g) => [g.kind, g.task.type])).toEqual(created.map((c) => ['ENQUEUED', c.task.type]));
    expect(new Set(got.map((g) => g.task.id)).size).toBe(300);
  });

  it('taskForEvent: a newer event published in the same pass drops the shared read at once', async () => {
    const bus = new EventBus();
    const state = { status: 'QUEUED' };
    const calls: number[] = [];
    const store = { getTask: async (id: number) => (calls.push(id), { id, ...state }) } as unknown as TaskStore;
    const event = (id: number, kind: string) => ({ id, kind, at: 0, taskId: 7 }) as unknown as StoredEvent;
    bus.publish(event(1, 'ENQUEUED'));
    const e = event(1, 'ENQUEUED');
    const first = taskForEvent({ store, bus }, e);
    expect(taskForEvent({ store, bus }, e)).toBe(first);
    state.status = 'CANCELLED';
    bus.publish(event(2, 'CANCELLED'));
    const second = taskForEvent({ store, bus }, e);
    expect(second).not.toBe(first);
    expect(await second).toMatchObject({ status: 'CANCELLED' });
    expect(calls).toEqual([7, 7]);
    await new Promise((r) => process.nextTick(r));
    expect(taskForEvent({ store, bus }, e)).not.toBe(second);
  });

  it('a subscription that maps the event in a later turn reads the task again, even with nothing written since', async () => {
    const t = await makeApp();
    const reads = countReads(t);
    const { ready, busy } = await twoLive(t);
    const next = ready.next();
    const { task } = await t.store.enqueue({ type: 'x', payload: {} });
    await next;
    expect(reads(task.id)).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect((await busy.next()).value.data.taskEvents).toMatchObject({ kind: 'ENQUEUED', task: { status: 'QUEUED' } });
    expect(reads(task.id)).toBe(2);
    await ready.return?.(undefined);
    await busy.return?.(undefined);
  });
});

describe('taskUpdated', () => {
  it('emits the current state first, then every change', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const { task } = await t.store.enqueue({ type: 'job', payload: {} });
    const other = (await t.store.enqueue({ type: 'job', payload: {} })).task;
    const gid = Buffer.from(`Task:${task.id}`).toString('base64');
    const base = t.store.bus.listenerCount;
    const sub = collect(client, `subscription($id: ID!) { taskUpdated(id: $id) { id status progress progressMessage result } }`, { id: gid });
    await sub.waitForCount(1);
    expect(sub.results[0]!.data!.taskUpdated).toEqual({ id: gid, status: 'QUEUED', progress: null, progressMessage: null, result: null });
    await untilLive(t, base);

    const [c] = await t.store.claim({ workerId: 'w1', types: ['job'] });
    expect(c!.task.id).toBe(task.id);
    await sub.waitForCount(2);
    expect(sub.results[1]!.data!.taskUpdated).toMatchObject({ status: 'RUNNING', progress: null });

    await t.store.reportProgress({ taskId: task.id, leaseToken: c!.leaseToken, progress: 0.5, message: 'half' });
    await sub.waitForCount(3);
    expect(sub.results[2]!.data!.taskUpdated).toMatchObject({ status: 'RUNNING', progress: 0.5, progressMessage: 'half' });

    // Changes to another task are not sent.
    const [c2] = await t.store.claim({ workerId: 'w2', types: ['job'] });
    expect(c2!.task.id).toBe(other.id);

    await t.store.complete({ taskId: task.id, leaseToken: c!.leaseToken, result: { n: 1 } });
    await sub.waitForCount(4);
    expect(sub.results[3]!.data!.taskUpdated).toMatchObject({ status: 'SUCCEEDED', result: { n: 1 } });
    expect(sub.results).toHaveLength(4);
    expect(sub.errors).toEqual([]);
  });

  it('sends a change made between the first state and the next pull (no lost update)', async () => {
    const t = await makeApp();
    const { task } = await t.store.enqueue({ type: 'job', payload: {} });
    const it = await subscribeInProcess(t, `subscription($id: ID!) { taskUpdated(id: $id) { status } }`, { id: String(task.id) });
    const first = await it.next();
    expect(first.value.data.taskUpdated.status).toBe('QUEUED');
    // The consumer has the first state and has not asked for more yet (a slow client,
    // or a transport still flushing the first message). The task changes now.
    await t.store.claim({ workerId: 'w1' });
    const second = await within(it.next(), 3000);
    expect(second, 'the claim made after the first state was never sent').not.toBe(TIMEOUT);
    expect((second as IteratorResult<ExecutionResult<any>>).value.data.taskUpdated.status).toBe('RUNNING');
    await it.return?.(undefined);
  });

  it('sends a progress change made in the same millisecond as the previous change', async () => {
    // A frozen clock makes "the same millisecond" certain; at thousands of writes a second it is common.
    const t = await makeApp({ store: { now: () => Date.UTC(2025, 0, 1) } });
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const { task } = await t.store.enqueue({ type: 'job', payload: {} });
    const base = t.store.bus.listenerCount;
    const sub = collect(client, `subscription($id: ID!) { taskUpdated(id: $id) { status progress } }`, { id: String(task.id) });
    await sub.waitForCount(1);
    await untilLive(t, base);
    const [c] = await t.store.claim({ workerId: 'w1' });
    await sub.waitForCount(2);
    expect(sub.results[1]!.data!.taskUpdated).toEqual({ status: 'RUNNING', progress: null });
    await t.store.reportProgress({ taskId: task.id, leaseToken: c!.leaseToken, progress: 0.75 });
    // A later change to another task as a sentinel would not help here: wait for the update itself.
    await sub.waitForCount(3, 3000);
    expect(sub.results[2]!.data!.taskUpdated).toEqual({ status: 'RUNNING', progress: 0.75 });
  });
});

describe('taskLogAdded', () => {
  it('sends the log lines of one task, in order', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const a = (await t.store.enqueue({ type: 'job', payload: {} })).task;
    const b = (await t.store.enqueue({ type: 'job', payload: {} })).task;
    const gid = Buffer.from(`Task:${a.id}`).toString('base64');
    const base = t.store.bus.listenerCount;
    const sub = collect(client, `subscription($id: ID!) { taskLogAdded(taskId: $id) { id level message details task { id } } }`, { id: gid });
    await untilLive(t, base);
    await t.store.appendLog({ taskId: a.id, level: 'INFO', message: 'one' });
    await t.store.appendLog({ taskId: b.id, level: 'INFO', message: 'other task' });
    await t.store.appendLog({ taskId: a.id, level: 'ERROR', message: 'two', details: { code: 7 } });
    await t.store.enqueue({ type: 'job', payload: {} }); // a task event: not a log
    await t.store.appendLog({ taskId: a.id, level: 'DEBUG', message: 'three' });
    await sub.waitForCount(3);
    expect(sub.results.map((r) => r.data!.taskLogAdded)).toMatchObject([
      { level: 'INFO', message: 'one', details: null, task: { id: gid } },
      { level: 'ERROR', message: 'two', details: { code: 7 }, task: { id: gid } },
      { level: 'DEBUG', message: 'three', details: null, task: { id: gid } },
    ]);
    const logIds = sub.results.map((r) => r.data!.taskLogAdded.id);
    expect(new Set(logIds).size).toBe(3);
  });
});

describe('workerUpdated', () => {
  it('sends a worker when it registers and when its capabilities change', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const base = t.store.bus.listenerCount;
    const sub = collect(client, `subscription { workerUpdated { id status capabilities } }`);
    await untilLive(t, base);
    // Each event is read fresh when it is sent, so wait for each before the next change.
    await t.store.claim({ workerId: 'w-new', capabilities: { region: 'eu' } });
    await sub.waitForCount(1);
    await t.store.heartbeat({ workerId: 'w-new', capabilities: { region: 'us' } });
    await sub.waitForCount(2);
    await t.store.heartbeat({ workerId: 'w-new' }); // nothing changed: no update
    await t.store.claim({ workerId: 'w-other' });
    await sub.waitForCount(3);
    const gid = (w: string) => Buffer.from(`Worker:${w}`).toString('base64');
    expect(sub.results.map((r) => r.data!.workerUpdated)).toEqual([
      { id: gid('w-new'), status: 'ACTIVE', capabilities: { region: 'eu' } },
      { id: gid('w-new'), status: 'ACTIVE', capabilities: { region: 'us' } },
      { id: gid('w-other'), status: 'ACTIVE', capabilities: {} },
    ]);
  });
});

describe('queueStatsUpdated', () => {
  const STATS = `subscription($q: String) { queueStatsUpdated(queue: $q) { queue counts { status count } } }`;
  const queued = (r: { data?: any } | undefined) =>
    r?.data?.queueStatsUpdated.counts.find((c: { status: string }) => c.status === 'QUEUED').count as number | undefined;

  it('emits the stats now, then after changes', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    await t.store.enqueue({ type: 'x', payload: {} });
    const base = t.store.bus.listenerCount;
    const sub = collect(client, STATS, { q: 'default' });
    await sub.waitForCount(1);
    expect(sub.results[0]!.data!.queueStatsUpdated.queue).toBe('default');
    expect(queued(sub.results[0])).toBe(1);
    await untilLive(t, base);
    await t.store.enqueue({ type: 'x', payload: {} });
    await waitFor(() => queued(sub.results[sub.results.length - 1]) === 2, 'stats showing 2 queued');
    // Changes in another queue do not concern this subscription; they do concern the global one.
    expect(sub.errors).toEqual([]);
  });

  it('a pause or a resume of the queue reaches its subscribers as new stats', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const base = t.store.bus.listenerCount;
    const sub = collect(client, `subscription($q: String) { queueStatsUpdated(queue: $q) { paused pausedTypes } }`, { q: 'media' });
    await sub.waitForCount(1);
    expect(sub.results[0]!.data!.queueStatsUpdated).toEqual({ paused: false, pausedTypes: [] });
    await untilLive(t, base);
    await t.store.pauseQueue({ queue: 'media' });
    await waitFor(() => sub.results.at(-1)?.data?.queueStatsUpdated.paused === true, 'stats showing media paused');
    await t.store.pauseQueue({ queue: 'media', type: 'resize' });
    await t.store.resumeQueue({ queue: 'media' });
    await waitFor(() => {
      const last = sub.results.at(-1)?.data?.queueStatsUpdated;
      return last?.paused === false && last.pausedTypes[0] === 'resize';
    }, 'stats showing the type still paused, the queue resumed');
    expect(sub.errors).toEqual([]);
  });

  it('is throttled: 100 quick changes give a handful of emissions in the next second', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const base = t.store.bus.listenerCount;
    const sub = collect(client, STATS, {});
    await sub.waitForCount(1);
    await untilLive(t, base);
    const before = sub.results.length;
    const start = Date.now();
    // Count what arrives in the first second after the burst began, however long the
    // burst takes on this back end (a SQLite file takes ~100 writes in well under a second,
    // a PostgreSQL server about one).
    const firstSecond = new Promise<number>((resolve) => setTimeout(() => resolve(sub.results.length - before), 1000));
    let changesInFirstSecond = 0;
    for (let i = 0; i < 100; i++) {
      await t.store.enqueue({ type: 'x', payload: { i } });
      if (Date.now() - start < 1000) changesInFirstSecond++;
    }
    // The check has teeth only if that second saw many changes: unthrottled, each would be sent.
    expect(changesInFirstSecond, 'changes committed in the counted second').toBeGreaterThanOrEqual(25);
    const inFirstSecond = await firstSecond;
    expect(inFirstSecond).toBeGreaterThanOrEqual(1);
    expect(inFirstSecond).toBeLessThanOrEqual(5);
    await waitFor(() => queued(sub.results[sub.results.length - 1]) === 100, 'stats showing all 100 queued', 3000);
  });

  it('folds a burst of changes into one read: once the stats show the burst, they stop', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const base = t.store.bus.listenerCount;
    const sub = collect(client, STATS, {});
    await sub.waitForCount(1);
    await untilLive(t, base);
    for (let i = 0; i < 100; i++) await t.store.enqueue({ type: 'x', payload: { i } });
    await waitFor(() => queued(sub.results[sub.results.length - 1]) === 100, 'stats showing all 100 queued', 3000);
    const settled = sub.results.length;
    // Nothing changes any more; at most one read that was already under way may still come.
    await sleep(1500);
    expect(sub.results.length - settled, 'emissions after the stats had settled').toBeLessThanOrEqual(1);
  });

  it('stays open under a busy queue (the throttle is not a slow consumer)', async () => {
    const t = await makeApp(); // default subscription buffer (1000)
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const base = t.store.bus.listenerCount;
    const sub = collect(client, STATS, {});
    await sub.waitForCount(1);
    await untilLive(t, base);
    for (let i = 0; i < 2; i++) await t.store.enqueueMany(Array.from({ length: 750 }, () => ({ type: 'x', payload: {} })));
    await waitFor(
      () => sub.errors.length > 0 || queued(sub.results[sub.results.length - 1]) === 1500,
      'stats showing 1500 queued',
      3000,
    );
    expect(sub.errors, JSON.stringify(sub.errors)).toEqual([]);
    expect(sub.completed).toBe(false);
  });

  it('sends a change made between the first stats and the next pull', async () => {
    const t = await makeApp();
    const it = await subscribeInProcess(t, STATS, { q: 'default' });
    const first = await it.next();
    expect(queued(first.value)).toBe(0);
    await t.store.enqueue({ type: 'x', payload: {} });
    const second = await within(it.next(), 3000);
    expect(second, 'the change made after the first stats was never sent').not.toBe(TIMEOUT);
    expect(queued((second as IteratorResult<ExecutionResult<any>>).value)).toBe(1);
    await it.return?.(undefined);
  });
});

describe('SSE', () => {
  it('runs a subscription over text/event-stream on the real port', async () => {
    const t = await makeApp();
    const { url } = await t.listen();
    const { task } = await t.store.enqueue({ type: 'job', payload: {} });
    const base = t.store.bus.listenerCount;
    const abort = new AbortController();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: `subscription($id: ID!) { taskUpdated(id: $id) { status progress } }`, variables: { id: String(task.id) } }),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);

    const events: { event: string; data: any }[] = [];
    const reading = (async () => {
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += decoder.decode(value, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).trim());
            }
            if (data.length && data.join('')) events.push({ event, data: JSON.parse(data.join('\n')) });
          }
        }
      } catch {
        // aborted
      }
    })();

    await waitFor(() => events.length >= 1, 'the first SSE event');
    expect(events[0]).toEqual({ event: 'next', data: { data: { taskUpdated: { status: 'QUEUED', progress: null } } } });
    await untilLive(t, base);
    const [c] = await t.store.claim({ workerId: 'w1' });
    await t.store.reportProgress({ taskId: task.id, leaseToken: c!.leaseToken, progress: 0.25 });
    await waitFor(
      () => events.some((e) => e.data?.data?.taskUpdated?.progress === 0.25),
      `an SSE event with the progress (have ${JSON.stringify(events)})`,
    );
    expect(events.map((e) => e.data.data.taskUpdated.status)).toContain('RUNNING');
    abort.abort();
    await reading;
  });
});

describe('ending a subscription lets go of it on the server at once', () => {
  // A quiet subscription: nothing it listens for happens after the client leaves.
  const QUIET = `subscription { taskLogAdded(taskId: "999999") { id } }`;

  it('when a graphql-ws client completes it', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const base = t.store.bus.listenerCount;
    const sub = collect(client, QUIET);
    const events = collect(client, EVENTS, { filter: { type: ['never'] } });
    await untilLive(t, base + 1, 'both subscriptions to go live');
    sub.unsubscribe();
    events.unsubscribe();
    await untilReleased(t, base);
  });

  it('when a graphql-ws client disconnects', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    const base = t.store.bus.listenerCount;
    collect(client, QUIET);
    await untilLive(t, base);
    await client.dispose();
    await untilReleased(t, base);
  });

  it('when an SSE client aborts', async () => {
    const t = await makeApp();
    const { url } = await t.listen();
    const base = t.store.bus.listenerCount;
    const abort = new AbortController();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: QUIET }),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    await untilLive(t, base);
    abort.abort();
    await untilReleased(t, base);
  });
});
