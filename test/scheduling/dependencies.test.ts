/**
 * Dependency chains and fan-in through the GraphQL API (in-process, yoga.fetch): the order
 * in which tasks unblock, and failure and cancellation cascading transitively, with the
 * reason in errorMessage and in the logs. The engine's own unit tests are in
 * test/store/dependencies.test.ts; these go through the API and cover the shapes and
 * causes (timeouts, lease expiry, diamonds, deep chains) that those do not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeApp, stopApps } from '../helpers/app.js';
import { Clock, at } from './harness.js';

afterEach(stopApps);

const num = (gid: string) => Number(Buffer.from(gid, 'base64').toString('utf8').split(':')[1]);
const T0 = at('2026-02-01T00:00:00Z');

interface GTask {
  id: string;
  type: string;
  status: string;
  errorMessage: string | null;
  dependsOn: { id: string }[];
  dependents: { id: string }[];
  logs: { edges: { node: { level: string; message: string } }[] };
}

async function api(options: { backoffBaseMs?: number } = {}) {
  const clock = new Clock(T0);
  const t = await makeApp({ store: { now: clock.now, random: () => 0.5, ...options } });
  const enqueue = async (type: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}) =>
    (
      await t.ok(`mutation($input: EnqueueTaskInput!) { enqueueTask(input: $input) { task { id status } } }`, {
        input: { type, payload: {}, dependsOn, ...extra },
      })
    ).enqueueTask.task as { id: string; status: string };
  const claim = async (type: string, leaseSeconds = 60) => {
    const r = await t.ok(`mutation($types: [String!], $l: Int) { claimTasks(input: { workerId: "w", types: $types, leaseSeconds: $l }) { leaseToken task { id } } }`, {
      types: [type],
      l: leaseSeconds,
    });
    return r.claimTasks as { leaseToken: string; task: { id: string } }[];
  };
  /** Claims the only task of `type` (each test gives its tasks unique types) and completes or fails it. */
  const finish = async (type: string, outcome: 'ok' | 'fail' = 'ok') => {
    const [c, ...more] = await claim(type);
    expect(c, `a ${type} task should be claimable`).toBeDefined();
    expect(more).toEqual([]);
    if (outcome === 'ok') {
      await t.ok(`mutation($id: ID!, $tok: String!) { completeTask(input: { taskId: $id, leaseToken: $tok }) { id } }`, { id: c!.task.id, tok: c!.leaseToken });
    } else {
      await t.ok(`mutation($id: ID!, $tok: String!) { failTask(input: { taskId: $id, leaseToken: $tok, error: "disk full", retryable: false }) { id } }`, {
        id: c!.task.id,
        tok: c!.leaseToken,
      });
    }
    return c!.task.id;
  };
  const task = async (id: string): Promise<GTask> =>
    (
      await t.ok(
        `query($id: ID!) { task(id: $id) { id type status errorMessage dependsOn { id } dependents { id } logs { edges { node { level message } } } } }`,
        { id },
      )
    ).task;
  const statuses = async (...ids: string[]) => Promise.all(ids.map(async (id) => (await task(id)).status));
  /** Task events (kind:type) in the outbox after `after`. */
  const events = async (after = 0) => {
    const rows = await t.store.eventsAfter(after, 10_000);
    return rows.filter((e) => e.kind !== 'LOG_ADDED' && e.kind !== 'WORKER_UPDATED').map((e) => `${e.kind}:${e.type}`);
  };
  return { t, clock, enqueue, claim, finish, task, statuses, events };
}

const logsOf = (x: GTask) => x.logs.edges.map((e) => e.node);

describe('unblocking order', () => {
  it('fan-in: C stays BLOCKED until both A and B SUCCEEDED, then is QUEUED with one UNBLOCKED event', async () => {
    const { t, enqueue, finish, task, statuses, events, claim } = await api();
    const a = await enqueue('a');
    const b = await enqueue('b');
    const c = await enqueue('c', [a.id, b.id]);
    expect(c.status).toBe('BLOCKED');
    const tc = await task(c.id);
    expect(tc.dependsOn.map((d) => d.id).sort()).toEqual([a.id, b.id].sort());
    expect((await task(a.id)).dependents).toEqual([{ id: c.id }]);
    expect(await claim('c')).toEqual([]);

    const mark = await t.store.lastEventId();
    await finish('b');
    expect(await statuses(c.id)).toEqual(['BLOCKED']);
    expect(await claim('c')).toEqual([]);
    // A running does not unblock anything either: only SUCCEEDED counts.
    const [ca] = await claim('a');
    expect(await statuses(a.id, c.id)).toEqual(['RUNNING', 'BLOCKED']);
    await t.ok(`mutation($id: ID!, $tok: String!) { completeTask(input: { taskId: $id, leaseToken: $tok }) { id } }`, { id: ca!.task.id, tok: ca!.leaseToken });
    expect(await statuses(c.id)).toEqual(['QUEUED']);
    expect(await events(mark)).toEqual(['CLAIMED:b', 'SUCCEEDED:b', 'CLAIMED:a', 'SUCCEEDED:a', 'UNBLOCKED:c']);
    expect((await claim('c')).map((x) => x.task.id)).toEqual([c.id]);
  });

  it('a chain A -> B -> C -> D unblocks one link at a time, in order', async () => {
    const { t, enqueue, finish, statuses, events } = await api();
    const a = await enqueue('a');
    const b = await enqueue('b', [a.id]);
    const c = await enqueue('c', [b.id]);
    const d = await enqueue('d', [c.id]);
    const mark = await t.store.lastEventId();
    expect(await statuses(a.id, b.id, c.id, d.id)).toEqual(['QUEUED', 'BLOCKED', 'BLOCKED', 'BLOCKED']);
    await finish('a');
    expect(await statuses(b.id, c.id, d.id)).toEqual(['QUEUED', 'BLOCKED', 'BLOCKED']);
    await finish('b');
    expect(await statuses(c.id, d.id)).toEqual(['QUEUED', 'BLOCKED']);
    await finish('c');
    expect(await statuses(d.id)).toEqual(['QUEUED']);
    await finish('d');
    expect(await statuses(a.id, b.id, c.id, d.id)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(await events(mark)).toEqual([
      'CLAIMED:a',
      'SUCCEEDED:a',
      'UNBLOCKED:b',
      'CLAIMED:b',
      'SUCCEEDED:b',
      'UNBLOCKED:c',
      'CLAIMED:c',
      'SUCCEEDED:c',
      'UNBLOCKED:d',
      'CLAIMED:d',
      'SUCCEEDED:d',
    ]);
  });

  it('a retried failure does not unblock or cancel: dependents wait for the attempt that succeeds', async () => {
    const { t, clock, enqueue, claim, statuses } = await api({ backoffBaseMs: 1000 });
    const a = await enqueue('a', [], { maxAttempts: 2 });
    const b = await enqueue('b', [a.id]);
    const [c1] = await claim('a');
    const failed = await t.ok(`mutation($id: ID!, $tok: String!) { failTask(input: { taskId: $id, leaseToken: $tok, error: "flaky" }) { status runAfter } }`, {
      id: c1!.task.id,
      tok: c1!.leaseToken,
    });
    expect(failed.failTask.status).toBe('QUEUED');
    expect(await statuses(b.id)).toEqual(['BLOCKED']);
    clock.t = Date.parse(failed.failTask.runAfter);
    const [c2] = await claim('a');
    await t.ok(`mutation($id: ID!, $tok: String!) { completeTask(input: { taskId: $id, leaseToken: $tok }) { id } }`, { id: c2!.task.id, tok: c2!.leaseToken });
    expect(await statuses(a.id, b.id)).toEqual(['SUCCEEDED', 'QUEUED']);
  });
});

describe('failure and cancellation cascade', () => {
  it('a failure cancels a diamond below it once per task, transitively, with the reason in errorMessage and logs', async () => {
    const { t, enqueue, finish, task, events } = await api();
    const a = await enqueue('a');
    const b = await enqueue('b', [a.id]);
    const c = await enqueue('c', [a.id]);
    const d = await enqueue('d', [b.id, c.id]);
    const e = await enqueue('e', [d.id]);
    const other = await enqueue('other');
    const mark = await t.store.lastEventId();
    await finish('a', 'fail');

    const [tb, tc, td, te] = await Promise.all([b, c, d, e].map((x) => task(x.id)));
    const A = num(a.id);
    for (const x of [tb, tc]) {
      expect(x!.status).toBe('CANCELLED');
      expect(x!.errorMessage).toBe(`dependency ${A} FAILED`);
      expect(logsOf(x!)).toEqual([{ level: 'WARN', message: `cancelled: dependency ${A} FAILED` }]);
    }
    // D is reached through B and through C, and cancelled once; the reason names the path back to A.
    expect(td!.status).toBe('CANCELLED');
    expect(td!.errorMessage).toMatch(new RegExp(`^dependency (${num(b.id)}|${num(c.id)}) was cancelled \\(dependency ${A} FAILED\\)$`));
    expect(logsOf(td!)).toHaveLength(1);
    expect(logsOf(td!)[0]!.message).toBe(`cancelled: ${td!.errorMessage}`);
    expect(te!.status).toBe('CANCELLED');
    expect(te!.errorMessage).toContain(`dependency ${num(d.id)} was cancelled`);
    expect(te!.errorMessage).toContain(`dependency ${A} FAILED`);
    expect(logsOf(te!)).toHaveLength(1);
    expect((await task(other.id)).status).toBe('QUEUED');

    const evs = await events(mark);
    expect(evs.slice(0, 3)).toEqual(['CLAIMED:a', 'FAILED:a', expect.stringMatching(/^CANCELLED:[bc]$/)]);
    expect(evs.filter((x) => x.startsWith('CANCELLED')).sort()).toEqual(['CANCELLED:b', 'CANCELLED:c', 'CANCELLED:d', 'CANCELLED:e']);
    // The cascade is part of the failing transaction: the dependents are CANCELLED right after FAILED.
    expect(evs).toHaveLength(6);
  });

  it('fan-in with one dependency SUCCEEDED and the other FAILED: the join is cancelled, naming the failed one', async () => {
    const { enqueue, finish, task } = await api();
    const a = await enqueue('a');
    const b = await enqueue('b');
    const join = await enqueue('join', [a.id, b.id]);
    const sibling = await enqueue('sibling', [a.id]);
    await finish('a');
    expect((await task(join.id)).status).toBe('BLOCKED');
    expect((await task(sibling.id)).status).toBe('QUEUED');
    await finish('b', 'fail');
    const tj = await task(join.id);
    expect(tj.status).toBe('CANCELLED');
    expect(tj.errorMessage).toBe(`dependency ${num(b.id)} FAILED`);
    expect((await task(sibling.id)).status).toBe('QUEUED');
  });

  it('cancelTask cascades down a 40-deep chain in one call; tasks beside the chain are untouched', async () => {
    const { t, enqueue, task, statuses } = await api();
    const chain = [await enqueue('l0')];
    for (let i = 1; i < 40; i++) chain.push(await enqueue(`l${i}`, [chain[i - 1]!.id]));
    const done = await enqueue('done');
    const { id: doneRun } = (await t.ok(`mutation { claimTasks(input: { workerId: "w", types: ["done"] }) { leaseToken task { id } } }`)).claimTasks[0].task;
    expect(doneRun).toBe(done.id);
    // A task that needs both a chain link and a finished-elsewhere task goes down with the chain.
    const mixed = await enqueue('mixed', [chain[20]!.id, done.id]);
    const r = await t.ok(`mutation($id: ID!) { cancelTask(id: $id, reason: "wrong input") { status errorMessage } }`, { id: chain[0]!.id });
    expect(r.cancelTask).toEqual({ status: 'CANCELLED', errorMessage: 'wrong input' });
    const all = await statuses(...chain.map((x) => x.id), mixed.id);
    expect(new Set(all)).toEqual(new Set(['CANCELLED']));
    const l1 = await task(chain[1]!.id);
    expect(l1.errorMessage).toBe(`dependency ${num(chain[0]!.id)} was cancelled`);
    const last = await task(chain[39]!.id);
    expect(last.errorMessage).toContain(`dependency ${num(chain[38]!.id)} was cancelled`);
    expect(last.errorMessage).toContain(`dependency ${num(chain[0]!.id)} was cancelled`);
    expect(logsOf(last)).toEqual([{ level: 'WARN', message: `cancelled: ${last.errorMessage}` }]);
    expect((await task(mixed.id)).errorMessage).toContain(`dependency ${num(chain[20]!.id)} was cancelled`);
    expect(await statuses(done.id)).toEqual(['RUNNING']);
  });

  it('a timeout on the last attempt fails the task (sweep) and cancels its dependents', async () => {
    const { t, clock, enqueue, claim, task } = await api();
    const a = await enqueue('a', [], { timeoutSeconds: 5, maxAttempts: 1 });
    const b = await enqueue('b', [a.id]);
    const c = await enqueue('c', [b.id]);
    await claim('a', 600);
    clock.t += 5_000;
    expect((await t.store.sweep()).timedOut).toBe(1);
    expect((await task(a.id)).status).toBe('FAILED');
    const [tb, tc] = await Promise.all([task(b.id), task(c.id)]);
    expect(tb).toMatchObject({ status: 'CANCELLED', errorMessage: `dependency ${num(a.id)} FAILED` });
    expect(tc.status).toBe('CANCELLED');
    expect(tc.errorMessage).toContain(`dependency ${num(b.id)} was cancelled`);
    expect(logsOf(tc)).toHaveLength(1);
  });

  it('a lease that expires on the last attempt fails the task (sweep) and cancels its dependents', async () => {
    const { t, clock, enqueue, claim, task } = await api();
    const a = await enqueue('a', [], { maxAttempts: 1 });
    const b = await enqueue('b', [a.id]);
    await claim('a', 10);
    clock.t += 10_001;
    expect((await t.store.sweep()).expired).toBe(1);
    expect((await task(a.id)).status).toBe('FAILED');
    expect(await task(b.id)).toMatchObject({ status: 'CANCELLED', errorMessage: `dependency ${num(a.id)} FAILED` });
  });

  it('a RUNNING dependency that is cancelled keeps its dependents BLOCKED until its worker gives up, then cancels them', async () => {
    const { t, enqueue, claim, task } = await api();
    const a = await enqueue('a');
    const b = await enqueue('b', [a.id]);
    const [ca] = await claim('a');
    const r = await t.ok(`mutation($id: ID!) { cancelTask(id: $id) { status cancelRequested } }`, { id: a.id });
    expect(r.cancelTask).toEqual({ status: 'RUNNING', cancelRequested: true });
    expect((await task(b.id)).status).toBe('BLOCKED');
    await t.ok(`mutation($id: ID!, $tok: String!) { failTask(input: { taskId: $id, leaseToken: $tok, error: "stopped" }) { status } }`, {
      id: ca!.task.id,
      tok: ca!.leaseToken,
    });
    expect((await task(a.id)).status).toBe('CANCELLED');
    expect(await task(b.id)).toMatchObject({ status: 'CANCELLED', errorMessage: `dependency ${num(a.id)} was cancelled` });
  });

  it('dependsOn naming an unknown task is a VALIDATION error that names it; nothing is enqueued', async () => {
    const { t, enqueue } = await api();
    const a = await enqueue('a');
    const ghost = Buffer.from('Task:424242').toString('base64');
    const r = await t.gql(`mutation($input: EnqueueTaskInput!) { enqueueTask(input: $input) { task { id } } }`, {
      input: { type: 'b', payload: {}, dependsOn: [a.id, ghost] },
    });
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(r.errors?.[0]?.message).toContain('424242');
    const bad = await t.gql(`mutation { enqueueTask(input: { type: "b", payload: {}, dependsOn: ["Worker:1"] }) { task { id } } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(await t.store.countTasks()).toBe(1);
  });
});
