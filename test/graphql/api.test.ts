/**
 * Queries and mutations through yoga.fetch, on a temporary database with an injected clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeApp, stopApps, waitFor, type TestApp } from '../helpers/app.js';

afterEach(stopApps);

const T0 = Date.UTC(2025, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

/** Relay global IDs are base64 of "Type:key". */
const gid = (type: string, key: string | number) => Buffer.from(`${type}:${key}`).toString('base64');
const decode = (id: string) => Buffer.from(id, 'base64').toString('utf8');
const num = (id: string) => {
  const [type, key] = decode(id).split(':');
  expect(type).toBe('Task');
  return Number(key);
};

const TASK = `id queue type priority payload compatibility region format status attempts maxAttempts runAfter
  leaseUntil lockedBy { id } progress progressMessage result errorMessage cancelRequested idempotencyKey
  correlationId timeoutSeconds createdAt updatedAt startedAt finishedAt`;

interface Setup extends TestApp {
  clock: { t: number };
  enqueue(input: Record<string, unknown>): Promise<{ id: string; status: string }>;
  claim(input: Record<string, unknown>): Promise<{ leaseToken: string; leaseUntil: string; task: { id: string; status: string } }[]>;
}

async function setup(): Promise<Setup> {
  const clock = { t: T0 };
  const t = await makeApp({ store: { now: () => clock.t } });
  return {
    ...t,
    clock,
    enqueue: async (input) =>
      (
        await t.ok<{ enqueueTask: { task: { id: string; status: string } } }>(
          `mutation($input: EnqueueTaskInput!) { enqueueTask(input: $input) { task { id status } } }`,
          { input: { payload: {}, ...input } },
        )
      ).enqueueTask.task,
    claim: async (input) =>
      (
        await t.ok<{ claimTasks: { leaseToken: string; leaseUntil: string; task: { id: string; status: string } }[] }>(
          `mutation($input: ClaimTasksInput!) { claimTasks(input: $input) { leaseToken leaseUntil task { id status } } }`,
          { input },
        )
      ).claimTasks,
  };
}

describe('enqueueTask', () => {
  it('stores a task with the documented defaults and says it was created', async () => {
    const t = await setup();
    const data = await t.ok(`mutation { enqueueTask(input: { type: "email", payload: { to: "a@example.com" } }) { created task { ${TASK} } } }`);
    expect(data.enqueueTask.created).toBe(true);
    const task = data.enqueueTask.task;
    expect(decode(task.id)).toMatch(/^Task:\d+$/);
    expect(task).toMatchObject({
      queue: 'default',
      type: 'email',
      priority: 100,
      payload: { to: 'a@example.com' },
      compatibility: {},
      region: null,
      format: null,
      status: 'QUEUED',
      attempts: 0,
      maxAttempts: 5,
      runAfter: iso(T0),
      leaseUntil: null,
      lockedBy: null,
      progress: null,
      result: null,
      errorMessage: null,
      cancelRequested: false,
      idempotencyKey: null,
      correlationId: null,
      timeoutSeconds: null,
      createdAt: iso(T0),
      updatedAt: iso(T0),
      startedAt: null,
      finishedAt: null,
    });
    // And it is really stored.
    const again = await t.ok(`query($id: ID!) { task(id: $id) { id type status } }`, { id: task.id });
    expect(again.task).toEqual({ id: task.id, type: 'email', status: 'QUEUED' });
  });

  it('keeps the fields it is given, and derives region and format', async () => {
    const t = await setup();
    const runAfter = iso(T0 + 3_600_000);
    const data = await t.ok(
      `mutation($input: EnqueueTaskInput!) { enqueueTask(input: $input) { created task { ${TASK} } } }`,
      {
        input: {
          type: 'thumbnail',
          payload: { format: 'png', src: 's3://x' },
          queue: 'media',
          priority: 7,
          compatibility: { region: 'eu-west' },
          runAfter,
          maxAttempts: 2,
          timeoutSeconds: 60,
          correlationId: 'order-7',
          idempotencyKey: 'thumb-7',
        },
      },
    );
    expect(data.enqueueTask.task).toMatchObject({
      queue: 'media',
      priority: 7,
      payload: { format: 'png', src: 's3://x' },
      compatibility: { region: 'eu-west' },
      region: 'eu-west',
      format: 'png',
      runAfter,
      maxAttempts: 2,
      timeoutSeconds: 60,
      correlationId: 'order-7',
      idempotencyKey: 'thumb-7',
    });
    const delayed = await t.ok(`mutation { enqueueTask(input: { type: "x", payload: {}, delaySeconds: 90 }) { task { runAfter } } }`);
    expect(delayed.enqueueTask.task.runAfter).toBe(iso(T0 + 90_000));
  });

  it('returns the existing task with created = false for a repeated idempotency key', async () => {
    const t = await setup();
    const q = `mutation($p: JSON!) { enqueueTask(input: { type: "charge", payload: $p, idempotencyKey: "order-1" }) { created task { id payload } } }`;
    const first = await t.ok(q, { p: { amount: 1 } });
    t.clock.t += 1000;
    const second = await t.ok(q, { p: { amount: 2 } });
    expect(first.enqueueTask.created).toBe(true);
    expect(second.enqueueTask.created).toBe(false);
    expect(second.enqueueTask.task).toEqual(first.enqueueTask.task);
    const count = await t.ok(`{ tasks { totalCount } }`);
    expect(count.tasks.totalCount).toBe(1);
  });
});

describe('enqueueTasks', () => {
  it('enqueues every input, in order', async () => {
    const t = await setup();
    const data = await t.ok(
      `mutation($inputs: [EnqueueTaskInput!]!) { enqueueTasks(inputs: $inputs) { created task { id type } } }`,
      { inputs: [1, 2, 3].map((n) => ({ type: `t${n}`, payload: { n } })) },
    );
    expect(data.enqueueTasks.map((p: { task: { type: string } }) => p.task.type)).toEqual(['t1', 't2', 't3']);
    expect(data.enqueueTasks.every((p: { created: boolean }) => p.created)).toBe(true);
    const ids = data.enqueueTasks.map((p: { task: { id: string } }) => num(p.task.id));
    expect(new Set(ids).size).toBe(3);
  });

  it('is one transaction: one bad input fails the call and stores nothing', async () => {
    const t = await setup();
    const eventsBefore = await t.store.lastEventId();
    const r = await t.gql(`mutation($inputs: [EnqueueTaskInput!]!) { enqueueTasks(inputs: $inputs) { task { id } } }`, {
      inputs: [
        { type: 'ok', payload: {} },
        { type: 'bad', payload: 'not an object' },
        { type: 'ok', payload: {} },
      ],
    });
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(r.errors?.[0]?.message).toContain('inputs[1]');
    expect(r.data).toBeNull();
    const count = await t.ok(`{ tasks { totalCount } }`);
    expect(count.tasks.totalCount).toBe(0);
    expect(await t.store.lastEventId()).toBe(eventsBefore);
  });
});

describe('claim, heartbeat, progress, complete, fail', () => {
  it('claimTasks takes the best tasks, marks them RUNNING and hands out lease tokens', async () => {
    const t = await setup();
    const low = await t.enqueue({ type: 'a', priority: 50 });
    const high = await t.enqueue({ type: 'a', priority: 1 });
    await t.enqueue({ type: 'a', priority: 100 });
    const claimed = await t.ok(
      `mutation { claimTasks(input: { workerId: "w1", limit: 2, leaseSeconds: 45 }) { leaseToken leaseUntil task { id status attempts lockedBy { id } startedAt leaseUntil } } }`,
    );
    expect(claimed.claimTasks.map((c: { task: { id: string } }) => c.task.id)).toEqual([high.id, low.id]);
    for (const c of claimed.claimTasks) {
      expect(c.leaseToken).toMatch(/\S{16,}/);
      expect(c.leaseUntil).toBe(iso(T0 + 45_000));
      expect(c.task).toMatchObject({
        status: 'RUNNING',
        attempts: 1,
        lockedBy: { id: gid('Worker', 'w1') },
        startedAt: iso(T0),
        leaseUntil: iso(T0 + 45_000),
      });
    }
    expect(claimed.claimTasks[0].leaseToken).not.toBe(claimed.claimTasks[1].leaseToken);
    // Nothing left at the top: the third is all that remains.
    const rest = await t.claim({ workerId: 'w2', limit: 5 });
    expect(rest).toHaveLength(1);
    expect(await t.claim({ workerId: 'w2', limit: 5 })).toEqual([]);
  });

  it('claimTasks honours queue, types and the region in capabilities', async () => {
    const t = await setup();
    const eu = await t.enqueue({ type: 'render', compatibility: { region: 'eu' } });
    const us = await t.enqueue({ type: 'render', compatibility: { region: 'us' } });
    const other = await t.enqueue({ type: 'email' });
    const media = await t.enqueue({ type: 'render', queue: 'media' });
    const got = await t.claim({ workerId: 'w-eu', types: ['render'], capabilities: { region: 'eu' }, limit: 10 });
    expect(got.map((c) => c.task.id)).toEqual([eu.id]);
    const inMedia = await t.claim({ workerId: 'w-m', queue: 'media', limit: 10 });
    expect(inMedia.map((c) => c.task.id)).toEqual([media.id]);
    const rest = await t.claim({ workerId: 'w-any', limit: 10, capabilities: { region: 'us' } });
    expect(rest.map((c) => c.task.id).sort()).toEqual([us.id, other.id].sort());
  });

  it('heartbeat extends held leases, reports lost ones, and registers the worker', async () => {
    const t = await setup();
    const task = await t.enqueue({ type: 'a' });
    const [c] = await t.claim({ workerId: 'w1', leaseSeconds: 30 });
    t.clock.t += 10_000;
    const hb = await t.ok(
      `mutation($input: HeartbeatInput!) { heartbeat(input: $input) { worker { id status heartbeatAt capabilities } leases { taskId leaseUntil cancelRequested lost } } }`,
      {
        input: {
          workerId: 'w1',
          extendSeconds: 120,
          capabilities: { region: 'eu' },
          leases: [
            { taskId: task.id, leaseToken: c!.leaseToken },
            { taskId: task.id, leaseToken: 'not-the-token' },
          ],
        },
      },
    );
    expect(hb.heartbeat.worker).toEqual({
      id: gid('Worker', 'w1'),
      status: 'ACTIVE',
      heartbeatAt: iso(T0 + 10_000),
      capabilities: { region: 'eu' },
    });
    expect(hb.heartbeat.leases).toEqual([
      { taskId: task.id, leaseUntil: iso(T0 + 130_000), cancelRequested: false, lost: false },
      { taskId: task.id, leaseUntil: null, cancelRequested: false, lost: true },
    ]);
    const now = await t.ok(`query($id: ID!) { task(id: $id) { leaseUntil } }`, { id: task.id });
    expect(now.task.leaseUntil).toBe(iso(T0 + 130_000));
  });

  it('reportProgress records progress and its message', async () => {
    const t = await setup();
    await t.enqueue({ type: 'a' });
    const [c] = await t.claim({ workerId: 'w1' });
    t.clock.t += 500;
    const r = await t.ok(
      `mutation($input: ReportProgressInput!) { reportProgress(input: $input) { id progress progressMessage updatedAt status } }`,
      { input: { taskId: c!.task.id, leaseToken: c!.leaseToken, progress: 0.25, message: 'a quarter' } },
    );
    expect(r.reportProgress).toEqual({
      id: c!.task.id,
      progress: 0.25,
      progressMessage: 'a quarter',
      updatedAt: iso(T0 + 500),
      status: 'RUNNING',
    });
  });

  it('completeTask stores the result, ends the lease and unblocks dependents', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'a' });
    const b = await t.enqueue({ type: 'b', dependsOn: [a.id] });
    expect(b.status).toBe('BLOCKED');
    const [c] = await t.claim({ workerId: 'w1', types: ['a'] });
    t.clock.t += 2000;
    const done = await t.ok(
      `mutation($input: CompleteTaskInput!) { completeTask(input: $input) { id status result progress finishedAt leaseUntil } }`,
      { input: { taskId: c!.task.id, leaseToken: c!.leaseToken, result: { url: 'https://x/y.png', n: [1, 2] } } },
    );
    expect(done.completeTask).toEqual({
      id: a.id,
      status: 'SUCCEEDED',
      result: { url: 'https://x/y.png', n: [1, 2] },
      progress: 1,
      finishedAt: iso(T0 + 2000),
      leaseUntil: null,
    });
    const dep = await t.ok(`query($id: ID!) { task(id: $id) { status } }`, { id: b.id });
    expect(dep.task.status).toBe('QUEUED');
  });

  it('completeTasks acknowledges a batch at once, and all or none', async () => {
    const t = await setup();
    for (let i = 0; i < 4; i++) await t.enqueue({ type: 'a' });
    const claimed = await t.claim({ workerId: 'w1', limit: 4 });
    expect(claimed).toHaveLength(4);
    const q = `mutation($inputs: [CompleteTaskInput!]!) { completeTasks(inputs: $inputs) { id status result } }`;
    // One stale token in the batch: nothing is acknowledged.
    const bad = await t.gql(q, {
      inputs: claimed.map((c, i) => ({ taskId: c.task.id, leaseToken: i === 2 ? 'stale' : c.leaseToken, result: { i } })),
    });
    expect(bad.errors?.[0]?.extensions?.code).toBe('LEASE_LOST');
    const running = await t.ok(`{ tasks(filter: { status: [RUNNING] }) { totalCount } }`);
    expect(running.tasks.totalCount).toBe(4);
    const good = await t.ok(q, { inputs: claimed.map((c, i) => ({ taskId: c.task.id, leaseToken: c.leaseToken, result: { i } })) });
    expect(good.completeTasks).toEqual(claimed.map((c, i) => ({ id: c.task.id, status: 'SUCCEEDED', result: { i } })));
  });

  it('failTask schedules a retry while attempts remain, then FAILED', async () => {
    const t = await setup();
    const task = await t.enqueue({ type: 'a', maxAttempts: 2 });
    const fail = `mutation($input: FailTaskInput!) { failTask(input: $input) { id status attempts errorMessage runAfter finishedAt leaseUntil } }`;
    const [c1] = await t.claim({ workerId: 'w1' });
    const r1 = await t.ok(fail, { input: { taskId: task.id, leaseToken: c1!.leaseToken, error: 'boom 1', retryAfterSeconds: 30 } });
    expect(r1.failTask).toEqual({
      id: task.id,
      status: 'QUEUED',
      attempts: 1,
      errorMessage: 'boom 1',
      runAfter: iso(T0 + 30_000),
      finishedAt: null,
      leaseUntil: null,
    });
    // Not due yet.
    expect(await t.claim({ workerId: 'w1' })).toEqual([]);
    t.clock.t += 30_000;
    const [c2] = await t.claim({ workerId: 'w1' });
    expect(c2!.task.id).toBe(task.id);
    const r2 = await t.ok(fail, { input: { taskId: task.id, leaseToken: c2!.leaseToken, error: 'boom 2' } });
    expect(r2.failTask).toMatchObject({ status: 'FAILED', attempts: 2, errorMessage: 'boom 2', finishedAt: iso(T0 + 30_000) });
  });

  it('failTask with retryable: false fails at once', async () => {
    const t = await setup();
    const task = await t.enqueue({ type: 'a', maxAttempts: 5 });
    const [c] = await t.claim({ workerId: 'w1' });
    const r = await t.ok(
      `mutation($input: FailTaskInput!) { failTask(input: $input) { status attempts errorMessage } }`,
      { input: { taskId: task.id, leaseToken: c!.leaseToken, error: 'bad input', retryable: false } },
    );
    expect(r.failTask).toEqual({ status: 'FAILED', attempts: 1, errorMessage: 'bad input' });
  });
});

describe('cancelTask and retryTask', () => {
  it('cancels a QUEUED task at once, and its BLOCKED dependents with it', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'a' });
    const b = await t.enqueue({ type: 'b', dependsOn: [a.id] });
    const r = await t.ok(`mutation($id: ID!) { cancelTask(id: $id, reason: "not needed") { id status errorMessage finishedAt } }`, {
      id: a.id,
    });
    expect(r.cancelTask).toEqual({ id: a.id, status: 'CANCELLED', errorMessage: 'not needed', finishedAt: iso(T0) });
    const dep = await t.ok(`query($id: ID!) { task(id: $id) { status } }`, { id: b.id });
    expect(dep.task.status).toBe('CANCELLED');
  });

  it('asks the worker of a RUNNING task to stop; the task is CANCELLED when it gives up', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'a' });
    const [c] = await t.claim({ workerId: 'w1' });
    const r = await t.ok(`mutation($id: ID!) { cancelTask(id: $id) { status cancelRequested } }`, { id: a.id });
    expect(r.cancelTask).toEqual({ status: 'RUNNING', cancelRequested: true });
    const hb = await t.ok(`mutation($l: [LeaseInput!]) { heartbeat(input: { workerId: "w1", leases: $l }) { leases { cancelRequested lost } } }`, {
      l: [{ taskId: a.id, leaseToken: c!.leaseToken }],
    });
    expect(hb.heartbeat.leases).toEqual([{ cancelRequested: true, lost: false }]);
    const f = await t.ok(`mutation($input: FailTaskInput!) { failTask(input: $input) { status } }`, {
      input: { taskId: a.id, leaseToken: c!.leaseToken, error: 'stopped' },
    });
    expect(f.failTask.status).toBe('CANCELLED');
  });

  it('retryTask puts a FAILED task back in the queue with its attempts reset', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'a', maxAttempts: 1 });
    const [c] = await t.claim({ workerId: 'w1' });
    await t.ok(`mutation($input: FailTaskInput!) { failTask(input: $input) { status } }`, {
      input: { taskId: a.id, leaseToken: c!.leaseToken, error: 'x' },
    });
    t.clock.t += 1000;
    const r = await t.ok(`mutation($id: ID!) { retryTask(id: $id) { status attempts errorMessage finishedAt lockedBy { id } runAfter } }`, {
      id: a.id,
    });
    expect(r.retryTask).toEqual({ status: 'QUEUED', attempts: 0, errorMessage: null, finishedAt: null, lockedBy: null, runAfter: iso(T0 + 1000) });
    expect((await t.claim({ workerId: 'w1' })).map((x) => x.task.id)).toEqual([a.id]);
  });

  it('cancelTask and retryTask accept the bare numeric id as well as the global id', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'a' });
    const r = await t.ok(`mutation($id: ID!) { cancelTask(id: $id) { id status } }`, { id: String(num(a.id)) });
    expect(r.cancelTask).toEqual({ id: a.id, status: 'CANCELLED' });
    const again = await t.ok(`mutation($id: ID!) { retryTask(id: $id) { id status } }`, { id: String(num(a.id)) });
    expect(again.retryTask).toEqual({ id: a.id, status: 'QUEUED' });
  });
});

describe('logs', () => {
  it('appendTaskLog stores a log line that task.logs pages through', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'a' });
    const other = await t.enqueue({ type: 'b' });
    const append = `mutation($input: AppendTaskLogInput!) { appendTaskLog(input: $input) { id at level message details task { id } } }`;
    const made = [];
    for (let i = 0; i < 7; i++) {
      t.clock.t += 10;
      const r = await t.ok(append, {
        input: { taskId: a.id, level: i % 2 ? 'WARN' : 'INFO', message: `line ${i}`, details: i === 3 ? { k: [i] } : null },
      });
      made.push(r.appendTaskLog);
    }
    await t.ok(append, { input: { taskId: other.id, level: 'ERROR', message: 'other task' } });
    expect(made[3]).toMatchObject({ level: 'WARN', message: 'line 3', details: { k: [3] }, task: { id: a.id }, at: iso(T0 + 40) });
    expect(decode(made[0].id)).toMatch(/^TaskLog:\d+$/);

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: any = await t.ok(
        `query($id: ID!, $after: String) { task(id: $id) { logs(first: 3, after: $after) { edges { cursor node { id message } } pageInfo { hasNextPage endCursor } } } }`,
        { id: a.id, after },
      );
      const logs = r.task.logs;
      seen.push(...logs.edges.map((e: { node: { message: string } }) => e.node.message));
      if (!logs.pageInfo.hasNextPage) break;
      after = logs.pageInfo.endCursor;
    }
    expect(seen).toEqual(made.map((l) => l.message));
  });

  it('appendTaskLog with a lease token is accepted only while the lease is held', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'a' });
    const [c] = await t.claim({ workerId: 'w1' });
    const q = `mutation($input: AppendTaskLogInput!) { appendTaskLog(input: $input) { message } }`;
    const ok = await t.ok(q, { input: { taskId: a.id, level: 'INFO', message: 'working', leaseToken: c!.leaseToken } });
    expect(ok.appendTaskLog.message).toBe('working');
    const lost = await t.gql(q, { input: { taskId: a.id, level: 'INFO', message: 'late', leaseToken: 'stale' } });
    expect(lost.errors?.[0]?.extensions?.code).toBe('LEASE_LOST');
  });
});

describe('task and tasks', () => {
  it('task(id) returns null for an id that does not exist', async () => {
    const t = await setup();
    const r = await t.gql(`{ task(id: "12345") { id } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ task: null });
  });

  it('filters by status, queue, type, region, format, correlationId, idempotencyKey and creation time', async () => {
    const t = await setup();
    const ids: Record<string, string> = {};
    const add = async (name: string, input: Record<string, unknown>) => {
      t.clock.t += 1000;
      ids[name] = (await t.enqueue(input)).id;
    };
    await add('euPng', { type: 'thumb', payload: { format: 'png' }, compatibility: { region: 'eu' }, correlationId: 'c1' });
    await add('euJpg', { type: 'thumb', payload: { format: 'jpg' }, compatibility: { region: 'eu' }, correlationId: 'c1' });
    await add('usPng', { type: 'thumb', payload: { format: 'png' }, compatibility: { region: 'us' } });
    await add('mail', { type: 'email', idempotencyKey: 'k-1' });
    await add('media', { type: 'thumb', queue: 'media', payload: { format: 'gif' } });
    await t.claim({ workerId: 'w1', types: ['email'] });

    const list = async (filter: Record<string, unknown>) => {
      const r = await t.ok(`query($f: TaskFilter) { tasks(filter: $f, first: 100) { totalCount edges { node { id } } } }`, { f: filter });
      const got = r.tasks.edges.map((e: { node: { id: string } }) => e.node.id);
      expect(r.tasks.totalCount).toBe(got.length);
      return [...got].sort();
    };
    const expectIds = (...names: string[]) => names.map((n) => ids[n]).sort();

    expect(await list({})).toEqual(expectIds('euPng', 'euJpg', 'usPng', 'mail', 'media'));
    expect(await list({ region: ['eu'] })).toEqual(expectIds('euPng', 'euJpg'));
    expect(await list({ region: ['eu', 'us'], format: ['png'] })).toEqual(expectIds('euPng', 'usPng'));
    expect(await list({ format: ['gif', 'jpg'] })).toEqual(expectIds('euJpg', 'media'));
    expect(await list({ status: ['RUNNING'] })).toEqual(expectIds('mail'));
    expect(await list({ status: ['QUEUED'], type: ['thumb'] })).toEqual(expectIds('euPng', 'euJpg', 'usPng', 'media'));
    expect(await list({ queue: 'media' })).toEqual(expectIds('media'));
    expect(await list({ queue: 'default', type: ['email'] })).toEqual(expectIds('mail'));
    expect(await list({ correlationId: 'c1' })).toEqual(expectIds('euPng', 'euJpg'));
    expect(await list({ idempotencyKey: 'k-1' })).toEqual(expectIds('mail'));
    // Created at T0+1s .. T0+5s, one a second.
    expect(await list({ createdAfter: iso(T0 + 2000), createdBefore: iso(T0 + 5000) })).toEqual(expectIds('usPng', 'mail'));
    expect(await list({ region: [] })).toEqual([]);
  });

  it('pages with first/after visit every row exactly once, in every order', async () => {
    const t = await setup();
    const all: string[] = [];
    for (let i = 0; i < 23; i++) {
      t.clock.t += (i % 3) * 1000; // some equal timestamps
      all.push((await t.enqueue({ type: i % 2 ? 'odd' : 'even', priority: i % 4 })).id);
    }
    const walk = async (orderBy: Record<string, string> | null, filter: Record<string, unknown> | null, pageSize: number) => {
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 50; page++) {
        const r: any = await t.ok(
          `query($o: TaskOrder, $f: TaskFilter, $n: Int, $a: String) {
             tasks(orderBy: $o, filter: $f, first: $n, after: $a) {
               totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
          { o: orderBy, f: filter, n: pageSize, a: after },
        );
        const conn = r.tasks;
        expect(conn.edges.length).toBeLessThanOrEqual(pageSize);
        expect(conn.pageInfo.hasPreviousPage).toBe(after !== null);
        if (conn.edges.length) {
          expect(conn.pageInfo.startCursor).toBe(conn.edges[0].cursor);
          expect(conn.pageInfo.endCursor).toBe(conn.edges[conn.edges.length - 1].cursor);
        }
        seen.push(...conn.edges.map((e: { node: { id: string } }) => e.node.id));
        if (!conn.pageInfo.hasNextPage) return { seen, totalCount: conn.totalCount as number };
        after = conn.pageInfo.endCursor;
      }
      throw new Error('pagination did not end');
    };

    // Default: newest first.
    const byDefault = await walk(null, null, 5);
    expect(byDefault.seen).toEqual([...all].reverse());
    expect(byDefault.totalCount).toBe(23);

    for (const field of ['CREATED_AT', 'PRIORITY', 'UPDATED_AT']) {
      for (const direction of ['ASC', 'DESC']) {
        const r = await walk({ field, direction }, null, 4);
        expect(r.seen, `${field} ${direction}`).toHaveLength(23);
        expect(new Set(r.seen).size, `${field} ${direction}`).toBe(23);
        expect([...r.seen].sort()).toEqual([...all].sort());
      }
    }
    const priorities = await t.ok(`{ tasks(orderBy: { field: PRIORITY, direction: ASC }, first: 100) { edges { node { priority } } } }`);
    const ps = priorities.tasks.edges.map((e: { node: { priority: number } }) => e.node.priority);
    expect(ps).toEqual([...ps].sort((a: number, b: number) => a - b));

    const odd = await walk(null, { type: ['odd'] }, 3);
    expect(odd.totalCount).toBe(11);
    expect(odd.seen).toEqual(all.filter((_, i) => i % 2 === 1).reverse());
  });

  it('dependsOn and dependents list the tasks on either side of a dependency', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'a' });
    const b = await t.enqueue({ type: 'b' });
    const c = await t.enqueue({ type: 'c', dependsOn: [a.id, b.id] });
    const d = await t.enqueue({ type: 'd', dependsOn: [a.id] });
    const q = `query($id: ID!) { task(id: $id) { dependsOn { id } dependents { id } } }`;
    const ids = (list: { id: string }[]) => list.map((x) => x.id).sort();
    const ra = await t.ok(q, { id: a.id });
    expect(ra.task.dependsOn).toEqual([]);
    expect(ids(ra.task.dependents)).toEqual([c.id, d.id].sort());
    const rc = await t.ok(q, { id: c.id });
    expect(ids(rc.task.dependsOn)).toEqual([a.id, b.id].sort());
    expect(rc.task.dependents).toEqual([]);
  });
});

describe('node', () => {
  it('resolves Task, Worker and TaskLog global IDs', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'render' });
    await t.claim({ workerId: 'w-7' });
    const log = await t.ok(`mutation($id: ID!) { appendTaskLog(input: { taskId: $id, level: INFO, message: "hello" }) { id } }`, {
      id: a.id,
    });
    const q = `query($id: ID!) { node(id: $id) { __typename id
      ... on Task { type taskStatus: status }
      ... on Worker { workerStatus: status currentTasks { id } }
      ... on TaskLog { message task { id } } } }`;
    expect((await t.ok(q, { id: a.id })).node).toEqual({ __typename: 'Task', id: a.id, type: 'render', taskStatus: 'RUNNING' });
    expect((await t.ok(q, { id: gid('Worker', 'w-7') })).node).toEqual({
      __typename: 'Worker',
      id: gid('Worker', 'w-7'),
      workerStatus: 'ACTIVE',
      currentTasks: [{ id: a.id }],
    });
    expect((await t.ok(q, { id: log.appendTaskLog.id })).node).toEqual({
      __typename: 'TaskLog',
      id: log.appendTaskLog.id,
      message: 'hello',
      task: { id: a.id },
    });
  });

  it('returns null (at most with a NOT_FOUND error) for a global ID of a record that does not exist', async () => {
    const t = await setup();
    for (const id of [gid('Task', 999), gid('Worker', 'nobody'), gid('TaskLog', 999)]) {
      const r = await t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id });
      expect(r.data, decode(id)).toEqual({ node: null });
      for (const e of r.errors ?? []) expect(e.extensions?.code, decode(id)).toBe('NOT_FOUND');
    }
  });
});

describe('workers', () => {
  it('worker(id) takes the raw or the global id; workers filters by status', async () => {
    const t = await setup();
    const a = await t.enqueue({ type: 'a' });
    await t.enqueue({ type: 'b' });
    await t.claim({ workerId: 'w1', types: ['a'], capabilities: { region: 'eu', formats: ['png'] } });
    t.clock.t += 1000;
    await t.claim({ workerId: 'w2', types: ['nothing-here'] });
    const W = `id status capabilities startedAt heartbeatAt currentTasks { id }`;
    const raw = await t.ok(`{ worker(id: "w1") { ${W} } }`);
    expect(raw.worker).toEqual({
      id: gid('Worker', 'w1'),
      status: 'ACTIVE',
      capabilities: { region: 'eu', formats: ['png'] },
      startedAt: iso(T0),
      heartbeatAt: iso(T0),
      currentTasks: [{ id: a.id }],
    });
    const global = await t.ok(`query($id: ID!) { worker(id: $id) { id } }`, { id: gid('Worker', 'w2') });
    expect(global.worker).toEqual({ id: gid('Worker', 'w2') });
    expect((await t.ok(`{ worker(id: "nobody") { id } }`)).worker).toBeNull();

    const all = await t.ok(`{ workers { id currentTasks { id } } }`);
    expect(all.workers).toEqual([
      { id: gid('Worker', 'w1'), currentTasks: [{ id: a.id }] },
      { id: gid('Worker', 'w2'), currentTasks: [] },
    ]);
    expect((await t.ok(`{ workers(status: [ACTIVE]) { id } }`)).workers).toHaveLength(2);
    expect((await t.ok(`{ workers(status: [STALE, STOPPED]) { id } }`)).workers).toEqual([]);
  });
});

describe('queueStats', () => {
  it('counts tasks by status and type, overall and per queue', async () => {
    const t = await setup();
    for (let i = 0; i < 3; i++) await t.enqueue({ type: 'a' });
    await t.enqueue({ type: 'b' });
    await t.enqueue({ type: 'b', queue: 'other' });
    t.clock.t += 10_000;
    const [c] = await t.claim({ workerId: 'w1', types: ['b'] });
    await t.ok(`mutation($input: CompleteTaskInput!) { completeTask(input: $input) { id } }`, {
      input: { taskId: c!.task.id, leaseToken: c!.leaseToken },
    });
    await t.claim({ workerId: 'w2', types: ['a'] });
    const S = `queue counts { status count } byType { type queued running succeeded failed } oldestQueuedAgeSeconds activeWorkers succeededLastMinute failedLastMinute`;
    const r = await t.ok(`{ all: queueStats { ${S} } def: queueStats(queue: "default") { ${S} } other: queueStats(queue: "other") { ${S} } }`);
    const counts = (s: { counts: { status: string; count: number }[] }) => Object.fromEntries(s.counts.map((c) => [c.status, c.count]));
    expect(r.def.queue).toBe('default');
    expect(counts(r.def)).toEqual({ BLOCKED: 0, QUEUED: 2, RUNNING: 1, SUCCEEDED: 1, FAILED: 0, CANCELLED: 0 });
    expect(r.def.byType).toEqual([
      { type: 'a', queued: 2, running: 1, succeeded: 0, failed: 0 },
      { type: 'b', queued: 0, running: 0, succeeded: 1, failed: 0 },
    ]);
    expect(r.def.oldestQueuedAgeSeconds).toBe(10);
    expect(r.def.activeWorkers).toBe(2);
    expect(r.def.succeededLastMinute).toBe(1);
    expect(r.def.failedLastMinute).toBe(0);
    expect(r.all.queue).toBeNull();
    expect(counts(r.all)).toEqual({ BLOCKED: 0, QUEUED: 3, RUNNING: 1, SUCCEEDED: 1, FAILED: 0, CANCELLED: 0 });
    expect(counts(r.other)).toEqual({ BLOCKED: 0, QUEUED: 1, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, CANCELLED: 0 });
  });
});

describe('concurrency limits', () => {
  it('setConcurrencyLimit caps RUNNING tasks per queue and per type; null removes a limit', async () => {
    const t = await setup();
    for (let i = 0; i < 4; i++) await t.enqueue({ type: 'a' });
    for (let i = 0; i < 4; i++) await t.enqueue({ type: 'b' });
    const set = `mutation($input: ConcurrencyLimitInput!) { setConcurrencyLimit(input: $input) { queue type limit } }`;
    expect((await t.ok(set, { input: { queue: 'default', limit: 3 } })).setConcurrencyLimit).toEqual({
      queue: 'default',
      type: null,
      limit: 3,
    });
    expect((await t.ok(set, { input: { queue: 'default', type: 'a', limit: 1 } })).setConcurrencyLimit).toEqual({
      queue: 'default',
      type: 'a',
      limit: 1,
    });
    expect((await t.ok(`{ concurrencyLimits { queue type limit } }`)).concurrencyLimits).toEqual([
      { queue: 'default', type: null, limit: 3 },
      { queue: 'default', type: 'a', limit: 1 },
    ]);
    const got = await t.claim({ workerId: 'w1', limit: 10, strategy: 'FIFO' });
    const types = got.map((c) => c.task.id);
    expect(types).toHaveLength(3);
    const running = await t.ok(`{ tasks(filter: { status: [RUNNING], type: ["a"] }) { totalCount } }`);
    expect(running.tasks.totalCount).toBe(1);
    expect(await t.claim({ workerId: 'w1', limit: 10 })).toEqual([]);

    // Removing the queue limit lets the rest of b through; a stays capped at one.
    expect((await t.ok(set, { input: { queue: 'default', limit: null } })).setConcurrencyLimit).toEqual({
      queue: 'default',
      type: null,
      limit: null,
    });
    expect((await t.ok(`{ concurrencyLimits { queue type limit } }`)).concurrencyLimits).toEqual([
      { queue: 'default', type: 'a', limit: 1 },
    ]);
    const more = await t.claim({ workerId: 'w1', limit: 10 });
    expect(more).toHaveLength(2);
  });
});

describe('pauseQueue and resumeQueue', () => {
  const PAUSE = `mutation($input: QueuePauseInput!) { pauseQueue(input: $input) { queue type paused pausedAt } }`;
  const RESUME = `mutation($input: QueuePauseInput!) { resumeQueue(input: $input) { queue type paused pausedAt } }`;
  const STATS = `query($q: String) { queueStats(queue: $q) { paused pausedTypes counts { status count } } }`;

  it('a paused queue takes enqueues, hands out nothing, says so in its stats, and a waiting claim gets work on resume', async () => {
    const t = await setup();
    expect((await t.ok(PAUSE, { input: { queue: 'default' } })).pauseQueue).toEqual({ queue: 'default', type: null, paused: true, pausedAt: iso(T0) });
    const task = await t.enqueue({ type: 'a' });
    expect(task.status).toBe('QUEUED');
    expect(await t.claim({ workerId: 'w1' })).toEqual([]);
    const stats = (await t.ok(STATS, { q: 'default' })).queueStats;
    expect(stats).toMatchObject({ paused: true, pausedTypes: [] });
    expect((await t.ok(`{ pausedQueues { queue type paused } }`)).pausedQueues).toEqual([{ queue: 'default', type: null, paused: true }]);

    // A long-poll parked on the paused queue gets the task once it is resumed.
    const waiting = t.gql(`mutation { claimTasks(input: { workerId: "w2", waitSeconds: 10 }) { task { id } } }`);
    await waitFor(async () => (await t.store.getWorker('w2')) !== null, 'the claim to be waiting');
    expect((await t.ok(RESUME, { input: { queue: 'default' } })).resumeQueue).toEqual({ queue: 'default', type: null, paused: false, pausedAt: null });
    const r = await waiting;
    expect(r.data.claimTasks.map((c: { task: { id: string } }) => c.task.id)).toEqual([task.id]);
    expect((await t.ok(STATS, { q: 'default' })).queueStats).toMatchObject({ paused: false, pausedTypes: [] });
  });

  it('pausing one type leaves the rest of the queue claimable', async () => {
    const t = await setup();
    await t.ok(PAUSE, { input: { queue: 'default', type: 'slow' } });
    await t.enqueue({ type: 'slow' });
    const fast = await t.enqueue({ type: 'fast' });
    expect((await t.claim({ workerId: 'w1', limit: 5 })).map((c) => c.task.id)).toEqual([fast.id]);
    expect((await t.ok(STATS, { q: 'default' })).queueStats).toMatchObject({ paused: false, pausedTypes: ['slow'] });
  });

  it('a bad queue name is refused with VALIDATION and pauses nothing', async () => {
    const t = await setup();
    const r = await t.gql(PAUSE, { input: { queue: '' } });
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect((await t.ok(`{ pausedQueues { queue } }`)).pausedQueues).toEqual([]);
  });
});

describe('updateTask', () => {
  const UPDATE = `mutation($id: ID!, $input: UpdateTaskInput!) { updateTask(id: $id, input: $input) { id status payload priority maxAttempts runAfter } }`;

  it('edits a queued task and says so on taskEvents; a running one is refused with INVALID_STATE', async () => {
    const t = await setup();
    const task = await t.enqueue({ type: 'a', payload: { v: 1 } });
    const r = await t.ok(UPDATE, { id: task.id, input: { payload: { v: 2 }, priority: 7, runAfter: iso(T0 + 5000), maxAttempts: 3 } });
    expect(r.updateTask).toEqual({ id: task.id, status: 'QUEUED', payload: { v: 2 }, priority: 7, maxAttempts: 3, runAfter: iso(T0 + 5000) });
    const kinds = (await t.store.eventsAfter(0, 100)).map((e) => e.kind);
    expect(kinds).toEqual(['ENQUEUED', 'UPDATED']);
    t.clock.t = T0 + 5000;
    const [c] = await t.claim({ workerId: 'w1' });
    expect(c!.task.id).toBe(task.id);
    const refused = await t.gql(UPDATE, { id: task.id, input: { priority: 1 } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
  });
});

describe('bulk actions', () => {
  it('cancelTasks by filter, in calls of `limit` that go on from `after`', async () => {
    const t = await setup();
    for (let i = 0; i < 3; i++) await t.enqueue({ type: 'spam' });
    const keep = await t.enqueue({ type: 'ham' });
    const q = `mutation($f: TaskFilter!, $after: ID) { cancelTasks(filter: $f, limit: 2, after: $after) { changed skipped hasMore after } }`;
    const first = (await t.ok(q, { f: { type: ['spam'] } })).cancelTasks;
    expect(first).toMatchObject({ changed: 2, skipped: 0, hasMore: true });
    const second = (await t.ok(q, { f: { type: ['spam'] }, after: first.after })).cancelTasks;
    expect(second).toMatchObject({ changed: 1, hasMore: false });
    const counts = await t.ok(`{ tasks(filter: { status: [CANCELLED] }) { totalCount } }`);
    expect(counts.tasks.totalCount).toBe(3);
    expect((await t.ok(`query($id: ID!) { task(id: $id) { status } }`, { id: keep.id })).task.status).toBe('QUEUED');
  });
});

describe('retryTask with a payload', () => {
  it('runs a failed task again with the payload given', async () => {
    const t = await setup();
    const task = await t.enqueue({ type: 'a', payload: { url: 'bad' }, maxAttempts: 1 });
    const [c] = await t.claim({ workerId: 'w1' });
    await t.ok(`mutation($input: FailTaskInput!) { failTask(input: $input) { status } }`, { input: { taskId: task.id, leaseToken: c!.leaseToken, error: 'x' } });
    const r = await t.ok(`mutation($id: ID!, $p: JSON) { retryTask(id: $id, payload: $p) { status attempts payload } }`, { id: task.id, p: { url: 'good' } });
    expect(r.retryTask).toEqual({ status: 'QUEUED', attempts: 0, payload: { url: 'good' } });
    const bad = await t.gql(`mutation($id: ID!) { retryTask(id: $id, payload: [1]) { status } }`, { id: task.id });
    expect(bad.errors?.[0]?.extensions?.code).toBe('VALIDATION'); // checked before anything is read or written
  });
});

describe('enqueueTask onDuplicate', () => {
  it('REPLACE gives the queued task the new payload; an unknown policy is refused by the schema', async () => {
    const t = await setup();
    const q = `mutation($input: EnqueueTaskInput!) { enqueueTask(input: $input) { created task { id payload } } }`;
    const first = (await t.ok(q, { input: { type: 'a', payload: { v: 1 }, idempotencyKey: 'k' } })).enqueueTask;
    const second = (await t.ok(q, { input: { type: 'a', payload: { v: 2 }, idempotencyKey: 'k', onDuplicate: 'REPLACE' } })).enqueueTask;
    expect(second).toEqual({ created: false, task: { id: first.task.id, payload: { v: 2 } } });
    const bad = await t.gql(q, { input: { type: 'a', payload: {}, idempotencyKey: 'k', onDuplicate: 'MERGE' } });
    expect(bad.errors?.length).toBeGreaterThan(0);
    expect((await t.ok(`query($id: ID!) { task(id: $id) { payload } }`, { id: first.task.id })).task.payload).toEqual({ v: 2 });
  });
});
