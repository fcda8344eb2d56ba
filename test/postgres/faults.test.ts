/**
 * Faults on PostgreSQL, with real server processes (`node --import tsx src/cli.ts serve`)
 * on a private, throwaway cluster (helpers/pg-cluster.ts) that this file may stop and
 * start; the machine's shared cluster is not touched.
 *
 * 1. Instance kill: two instances on one schema; producers enqueue with idempotency keys
 *    and workers claim and complete, each over both instances (moving to the other when
 *    one gives no answer); beside each instance a slow "sidecar" worker that talks to it
 *    alone. One instance at a time is SIGKILLed under load, with its sidecar, while the
 *    sidecar holds a claimed task, and restarted. Then: every acknowledged enqueue exists
 *    exactly once, as the task its producer was told; every task SUCCEEDED with exactly one
 *    SUCCEEDED event; no completion was acknowledged twice, and each acknowledged one is
 *    the applied one; nothing is left RUNNING or QUEUED: each task the killed sidecars held
 *    had its (2 s) lease expire, swept by the surviving instance, and was completed by a
 *    live worker; the outbox is numbered without a gap, rows the killed instance committed
 *    included.
 * 2. A connection checked out of the pool and idle when PostgreSQL stops: no uncaught
 *    'error' (it killed the server process before the fix in connection.ts), UNAVAILABLE
 *    from the store while it is down, and the pool and listener recover.
 * 3. PostgreSQL restart: two instances, with the feed's timer off (feed_poll=0: other
 *    instances' events arrive by LISTEN/NOTIFY only), under load. The cluster is stopped
 *    (pg_ctl -m fast) for ~1.5 s and started again. While it is down, GraphQL requests on
 *    both instances answer, quickly, with errors coded UNAVAILABLE, and the processes and
 *    /health stay up. Once it is back, both instances serve again without a restart, both
 *    listeners are connected again, a subscriber on instance B sees a task enqueued on
 *    instance A, and every acknowledged enqueue is there.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { join } from 'node:path';
import { Child } from '../concurrency/harness.js';
import { ServerProcess, freePort, waitFor } from '../faults/server.js';
import { ENQUEUE, errorCode, sleep, taskNumber } from '../faults/fixtures/gql.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { TaskwireError } from '../../src/store/index.js';
import { isConnectionFailure } from '../../src/store/postgres/errors.js';
import { PostgresTaskStore } from '../../src/store/postgres/store.js';

/** A fixture of test/postgres/fixtures, for the harness's Child (which resolves under test/fixtures). */
const fixture = (name: string) => join('..', 'postgres', 'fixtures', name);

let cluster: PgCluster;
const servers: ServerProcess[] = [];
const children: Child[] = [];
const wsClients: Client[] = [];

beforeAll(async () => {
  cluster = await startPgCluster();
}, 60_000);

afterAll(async () => {
  for (const c of wsClients) await Promise.resolve(c.dispose()).catch(() => {});
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await Promise.all(servers.map((s) => s.kill('SIGKILL')));
  await cluster?.cleanup();
}, 60_000);

/** One statement on the private cluster, on a connection of its own (the cluster restarts). */
async function sql<R extends pg.QueryResultRow = any>(text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: cluster.connectionString, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

async function startServer(schema: string, env: Record<string, string>, extra: Record<string, string> = {}): Promise<ServerProcess> {
  const s = new ServerProcess({ dbPath: cluster.url(schema, extra), port: await freePort(), env });
  servers.push(s);
  return s;
}

function spawnChild(name: string, args: string[]): Child {
  const c = new Child(fixture(name), args);
  children.push(c);
  return c;
}

/** Lines of the children that report a failure: `ERROR ...` lines and anything on stderr. */
const failures = (cs: Child[]) => cs.flatMap((c) => c.lines.filter((l) => l.startsWith('ERROR')).concat(c.stderr ? [c.stderr] : []));
const countLines = (cs: Child[], prefix: string) => cs.reduce((n, c) => n + c.lines.filter((l) => l.startsWith(prefix)).length, 0);

/** What the producers were told: key -> task id, checking each key was acknowledged once. */
function acknowledged(producers: Child[]): { acked: Map<string, number>; foundExisting: number } {
  const acked = new Map<string, number>();
  let foundExisting = 0;
  for (const p of producers) {
    for (const line of p.lines.filter((l) => l.startsWith('ACK '))) {
      const [, key, id, created, retried] = line.split(' ');
      expect(acked.has(key!), `key ${key} acknowledged twice`).toBe(false);
      acked.set(key!, Number(id));
      if (created === '0') {
        // Only a resend may find an existing task: the first try of a new key creates one.
        expect(retried, line).toBe('1');
        foundExisting++;
      }
    }
  }
  return { acked, foundExisting };
}

/** Which worker each acknowledged completion came from, checking none was acknowledged twice. */
function completions(workers: [Child, string][]): { doneBy: Map<number, string>; lost: number } {
  const doneBy = new Map<number, string>();
  let lost = 0;
  for (const [w, workerId] of workers) {
    for (const line of w.lines) {
      const [tag, id] = line.split(' ');
      if (tag === 'DONE') {
        expect(doneBy.has(Number(id)), `completion of task ${id} acknowledged twice`).toBe(false);
        doneBy.set(Number(id), workerId);
      } else if (tag === 'LOST') lost++;
    }
  }
  return { doneBy, lost };
}

interface TaskRow {
  id: number;
  key: string;
  status: string;
  attempts: number;
  result: string | null;
  succeeded: number;
  enqueued: number;
  expired: number;
}

async function taskRows(schema: string, type = 'fault'): Promise<TaskRow[]> {
  return sql<TaskRow>(
    `SELECT t.id::int, t.idempotency_key AS key, t.status, t.attempts, t.result,
       (SELECT count(*)::int FROM ${schema}.task_events e WHERE e.task_id = t.id AND e.kind = 'SUCCEEDED') AS succeeded,
       (SELECT count(*)::int FROM ${schema}.task_events e WHERE e.task_id = t.id AND e.kind = 'ENQUEUED') AS enqueued,
       (SELECT count(*)::int FROM ${schema}.task_events e WHERE e.task_id = t.id AND e.kind = 'LEASE_EXPIRED') AS expired
     FROM ${schema}.tasks t WHERE t.type = $1 ORDER BY t.id`,
    [type],
  );
}

async function statusCounts(schema: string): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM ${schema}.tasks WHERE type = 'fault' GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Every acknowledged key is exactly one task, the one its producer was told. */
function expectEveryAckStored(acked: Map<string, number>, tasks: TaskRow[]): void {
  const byKey = new Map<string, number[]>();
  for (const t of tasks) byKey.set(t.key, [...(byKey.get(t.key) ?? []), t.id]);
  const wrong = [...acked].filter(([key, id]) => JSON.stringify(byKey.get(key) ?? []) !== JSON.stringify([id]));
  expect(wrong.map(([key, id]) => `${key}: told ${id}, stored ${JSON.stringify(byKey.get(key) ?? [])}`)).toEqual([]);
}

describe('faults on PostgreSQL', () => {
  const KILLS = 4;
  const LEASE_SECONDS = 2;

  it(`instance kill: one of two instances SIGKILLed ${KILLS} times under load loses no acknowledged enqueue and completes every task once`, { timeout: 150_000 }, async () => {
    const schema = 'fault_kill';
    const env = { TASKWIRE_SWEEP_INTERVAL_MS: '200', TASKWIRE_LEASE_SECONDS: String(LEASE_SECONDS) };
    const instances = { A: await startServer(schema, env), B: await startServer(schema, env) };
    const { A: a, B: b } = instances;
    // Both at once: the first to take the advisory lock migrates the new schema, the other waits for it.
    await Promise.all([a.start(), b.start()]);
    const urls = `${a.url},${b.url}`;
    const urlsBA = `${b.url},${a.url}`;
    // Steady load, not a flood: on a shared 2-core machine a flood starves the restarts.
    const producers = [spawnChild('producer.ts', [urls, 'p0', '40']), spawnChild('producer.ts', [urlsBA, 'p1', '40'])];
    const workerIds = new Map<Child, string>();
    const worker = (urlList: string, id: string, workMs: number, limit: number) => {
      const w = spawnChild('worker.ts', [urlList, id, String(LEASE_SECONDS), String(workMs), String(limit)]);
      workerIds.set(w, id);
      return w;
    };
    const workers = [worker(urls, 'w0', 5, 5), worker(urlsBA, 'w1', 5, 5)];
    // Beside each instance, a worker that talks to it alone and works 1.5 s per task (the
    // lease is 2 s): it dies with its instance, so each kill leaves a lease of work that went
    // through the killed instance for the other instance to find expired and sweep.
    const sidecars: Record<'A' | 'B', Child> = { A: worker(a.url, 'sA1', 1500, 1), B: worker(b.url, 'sB1', 1500, 1) };
    const allWorkers = () => [...workerIds.keys()];
    const everyone = () => [...producers, ...allWorkers()];

    await waitFor(() => countLines(producers, 'ACK ') >= 20 && countLines(workers, 'DONE ') >= 10, () => `first acks (${failures(everyone()).join('\n')})`, 30_000);

    const lives: { victim: string; acksWhileDown: number; restartMs: number }[] = [];
    /** Tasks a killed sidecar held: claimed, not completed, its completion not even sent. */
    const orphaned: { id: number; by: string }[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const name = kill % 2 === 0 ? 'A' : 'B';
      const victim = instances[name];
      const survivor = instances[name === 'A' ? 'B' : 'A'];
      const sidecar = sidecars[name];
      // A random moment of this life, under load, when the sidecar claimed a task less than
      // a second ago (so its completion, 1.5 s after the claim, has not been sent).
      await sleep(300 + Math.random() * 700);
      const claimed = await waitFor(
        () => {
          const last = sidecar.lines.at(-1);
          if (!last?.startsWith('CLAIMED ') || Date.now() - Number(last.split(' ')[1]) > 1000) return null;
          return { ids: last.split(' ').slice(2).map(Number), count: sidecar.lines.length };
        },
        () => `sidecar ${workerIds.get(sidecar)} to hold a claim (${sidecar.lines.slice(-3).join(' | ')}; ${failures(everyone()).join('\n')})`,
        15_000,
        5,
      );
      sidecar.kill('SIGKILL');
      await victim.kill('SIGKILL');
      await sidecar.exited;
      // Nothing came after that CLAIMED line: the task was held, untouched, when both died.
      expect(sidecar.lines.length).toBe(claimed.count);
      for (const id of claimed.ids) orphaned.push({ id, by: workerIds.get(sidecar)! });
      const acksAtKill = countLines(producers, 'ACK ');
      const started = Date.now();
      // The survivor carries the load while the victim is down (and while it starts again).
      await victim.start();
      const restartMs = Date.now() - started;
      sidecars[name] = worker(victim.url, `s${name}${kill + 2}`, 1500, 1);
      lives.push({ victim: name, acksWhileDown: countLines(producers, 'ACK ') - acksAtKill, restartMs });
      expect(survivor.running, survivor.output.slice(-2000)).toBe(true);
      expect(failures(everyone())).toEqual([]);
    }
    // The kills hit a loaded system, and the other instance served while one was down.
    for (const l of lives) expect(l.acksWhileDown, JSON.stringify(lives)).toBeGreaterThan(0);

    // Drain: producers stop (each finishes the key it was sending), workers finish the rest;
    // the leases the killed sidecars held expire and are swept back to the queue.
    for (const p of producers) p.send('STOP');
    await Promise.all(producers.map((p) => p.waitForLine((l) => l.startsWith('END '), 30_000)));
    await waitFor(
      async () => {
        const c = await statusCounts(schema);
        return Object.keys(c).every((s) => s === 'SUCCEEDED');
      },
      'every task SUCCEEDED',
      30_000,
      200,
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(await statusCounts(schema))}`);
    });
    const living = [...workers, sidecars.A, sidecars.B];
    for (const w of living) w.send('STOP');
    await Promise.all(living.map((w) => w.waitForLine((l) => l.startsWith('END '), 30_000)));
    await Promise.all(everyone().map((c) => c.exited));
    expect(failures(everyone())).toEqual([]);

    const { acked, foundExisting } = acknowledged(producers);
    const { doneBy, lost } = completions(allWorkers().map((w) => [w, workerIds.get(w)!]));
    const tasks = await taskRows(schema);
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const completedBy = (id: number) => JSON.parse(byId.get(id)?.result ?? 'null')?.by as string | undefined;

    expectEveryAckStored(acked, tasks);
    // Nothing else: a producer sends key n+1 only after key n was acknowledged, and
    // finishes its last key before END, so every stored task was acknowledged.
    expect(tasks.length).toBe(acked.size);
    // Every task SUCCEEDED, once, and was enqueued once.
    expect(tasks.filter((t) => t.status !== 'SUCCEEDED' || t.succeeded !== 1 || t.enqueued !== 1)).toEqual([]);
    // An acknowledged completion is the one that was applied (the result names its worker),
    // so no task was completed by two workers.
    expect([...doneBy].filter(([id, by]) => completedBy(id) !== by)).toEqual([]);
    // Every completion was acknowledged to its worker, or refused to one (LEASE_LOST) whose
    // earlier try or whose successor's completion was applied.
    expect(doneBy.size + lost).toBeGreaterThanOrEqual(tasks.length);
    // The killed instances' in-flight work: each lease expired, was swept (LEASE_EXPIRED),
    // and the task was then completed once, by a worker that is alive.
    expect(orphaned.length).toBeGreaterThanOrEqual(KILLS);
    expect(orphaned.filter((o) => byId.get(o.id)!.expired < 1 || completedBy(o.id) === o.by || byId.get(o.id)!.attempts < 2)).toEqual([]);
    // The outbox is numbered 1..N without a gap: rows an instance committed just before it
    // died (its own numbering step never ran) were numbered by the other.
    const [outbox] = await sql<{ n: number; numbered: number; lo: number | null; hi: number | null }>(
      `SELECT count(*)::int AS n, count(pos)::int AS numbered, min(pos)::int AS lo, max(pos)::int AS hi FROM ${schema}.task_events`,
    );
    expect(outbox).toEqual({ n: outbox!.n, numbered: outbox!.n, lo: 1, hi: outbox!.n });

    // Both instances stop cleanly.
    for (const s of [a, b]) {
      const exit = await s.stop();
      expect(exit, s.output.slice(-2000)).toEqual({ code: 0, signal: null });
    }
    const retried = (w: Child) => w.lines.find((l) => l.startsWith('END '))!.split(' ').slice(-1)[0];
    console.log(
      `pg instance-kill: ${KILLS} kills (${lives.map((l) => `${l.victim}: ${l.acksWhileDown} acks while down, back in ${l.restartMs} ms`).join('; ')}); ` +
        `${tasks.length} tasks, ${tasks.filter((t) => t.attempts > 1).length} ran more than once, ${tasks.reduce((n, t) => n + t.expired, 0)} leases expired and swept ` +
        `(${orphaned.length} held by killed sidecars); ${doneBy.size} completions acknowledged, ${lost} LEASE_LOST; ` +
        `${foundExisting} resent enqueues found the task an unanswered try had made; ` +
        `client retries: producers ${producers.map((p) => p.lines.find((l) => l.startsWith('END '))!.split(' ')[2]).join(' ')}, workers ${workers.map(retried).join(' ')}`,
    );
  });

  it('PostgreSQL stopped under a connection held between statements: no uncaught error, UNAVAILABLE while down, the pool and the listener recover', { timeout: 30_000 }, async () => {
    const store = await PostgresTaskStore.open({ url: cluster.url('fault_held'), feedPollMs: 0 });
    try {
      await store.enqueue({ type: 'held', payload: {} });
      expect(store.pg.feed.listening).toBe(true);
      // A checked-out connection that is idle when the server goes away: the pool does not
      // listen on it, so its 'error' event must have a listener of the driver's.
      const held = await store.pg.db.acquire();
      await cluster.stop('fast');
      await sleep(300); // the FATAL 57P01 and the close arrive while nothing runs on it
      const heldError = await held.query('SELECT 1').then(
        () => null,
        (e: Error) => e,
      );
      expect(heldError).not.toBeNull();
      expect(isConnectionFailure(heldError)).toBe(true);
      held.release(heldError!);
      // The store answers UNAVAILABLE, at once, for writes and reads.
      for (const op of [() => store.enqueue({ type: 'held', payload: {} }), () => store.getTask(1)]) {
        const t = Date.now();
        const e = await op().then(
          () => null,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(TaskwireError);
        expect((e as TaskwireError).code).toBe('UNAVAILABLE');
        expect(Date.now() - t).toBeLessThan(3000);
      }
      expect(store.pg.feed.listening).toBe(false);
      await cluster.start();
      // The pool makes new connections; the listener reconnects by itself.
      await waitFor(() => store.enqueue({ type: 'held', payload: {} }).then(() => true, () => false), 'an enqueue to succeed again', 10_000, 50);
      await waitFor(() => store.pg.feed.listening, 'the listener to reconnect', 10_000, 20);
      expect((await sql(`SELECT count(*)::int AS n FROM fault_held.tasks`))[0].n).toBe(2);
    } finally {
      if (!cluster.running) await cluster.start();
      await store.close();
    }
  });

  it('PostgreSQL restart: requests fail with UNAVAILABLE while it is down; the instances reconnect, listeners resume, nothing acknowledged is lost', { timeout: 90_000 }, async () => {
    const schema = 'fault_restart';
    const channel = `taskwire_${schema}`;
    const env = { TASKWIRE_SWEEP_INTERVAL_MS: '200', TASKWIRE_LEASE_SECONDS: '3', TASKWIRE_STALE_WORKER_SECONDS: '3600' };
    // No feed timer: what instance B learns of A's commits, it learns by LISTEN/NOTIFY (or by its own writes).
    const a = await startServer(schema, env, { feed_poll: '0' });
    const b = await startServer(schema, env, { feed_poll: '0' });
    await Promise.all([a.start(), b.start()]);
    for (const s of [a, b]) {
      const health = await (await fetch(s.url.replace('/graphql', '/health'))).json();
      expect(health.settings.feed_poll_ms).toBe(0);
    }
    const listeners = async () => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1`, [`LISTEN ${channel}`]))[0]!.n;
    expect(await listeners()).toBe(2);

    // A subscriber on B for tasks of type "probe" (the load is of type "fault").
    const subErrors: unknown[] = [];
    const ws = createClient({
      url: b.url.replace('http:', 'ws:'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: (e) => void subErrors.push(e),
    });
    wsClients.push(ws);
    const seen: { id: number; label: string; at: number }[] = [];
    let subscribed = false;
    ws.subscribe<{ taskEvents: { kind: string; task: { id: string; payload: { label: string } } } }>(
      { query: `subscription { taskEvents(filter: { type: ["probe"] }) { kind task { id payload } } }` },
      {
        next: (v) => {
          if (v.errors) subErrors.push(v.errors);
          const e = v.data?.taskEvents;
          if (e?.kind === 'ENQUEUED') seen.push({ id: taskNumber(e.task.id), label: e.task.payload.label, at: Date.now() });
        },
        error: (e) => subErrors.push(e),
        complete: () => subErrors.push('completed'),
      },
    );
    ws.on('connected', () => void (subscribed = true));
    await waitFor(() => subscribed, 'the subscriber on B to connect', 10_000);
    await sleep(200); // the subscribe message is processed right after connection_ack

    /** Enqueues a probe on A; resolves with how long until B's subscriber saw it. */
    const probe = async (label: string): Promise<number> => {
      const sent = Date.now();
      const id = taskNumber((await a.ok(ENQUEUE, { input: { type: 'probe', payload: { label } } })).enqueueTask.task.id);
      const got = await waitFor(() => seen.find((s) => s.id === id), () => `B's subscriber to see probe "${label}" (task ${id}); errors ${JSON.stringify(subErrors)}`, 3000, 5);
      expect(got.label).toBe(label);
      return got.at - sent;
    };
    const beforeMs = await probe('before');

    // Load over both instances.
    const producers = [spawnChild('producer.ts', [`${a.url},${b.url}`, 'r0', '20'])];
    const workers = [spawnChild('worker.ts', [`${b.url},${a.url}`, 'w0', '3', '5'])];
    const everyone = [...producers, ...workers];
    await waitFor(() => countLines(producers, 'ACK ') >= 20 && countLines(workers, 'DONE ') >= 10, () => `first acks (${failures(everyone).join('\n')})`, 30_000);

    // Down.
    const stopAt = Date.now();
    await cluster.stop('fast');
    const downAt = Date.now();
    const answers: { server: string; what: string; ms: number; code: string | undefined; status: number }[] = [];
    const READ = '{ queueStats { counts { status count } } }';
    while (Date.now() - downAt < 1500) {
      for (const [name, s] of [['A', a], ['B', b]] as const) {
        for (const [what, query, variables] of [
          ['enqueue', ENQUEUE, { input: { type: 'fault', payload: {}, idempotencyKey: `down-${answers.length}` } }],
          ['read', READ, undefined],
        ] as const) {
          const t = Date.now();
          const r = await s.gql(query, variables, 10_000).catch((e: Error) => {
            throw new Error(`${name} gave no answer while the database was down (running: ${s.running}): ${e.message}\n${s.output.slice(-3000)}`);
          });
          answers.push({ server: name, what, ms: Date.now() - t, code: errorCode(r), status: r.status });
          expect(r.data?.enqueueTask ?? r.data?.queueStats ?? null, JSON.stringify(r)).toBeNull();
        }
        expect(await s.healthy(2000), `${name} /health while the database is down`).toBe(true);
        expect(s.running).toBe(true);
      }
      await sleep(150);
    }
    expect(answers.filter((x) => x.code !== 'UNAVAILABLE')).toEqual([]);
    // Fast: a refused connection is answered at once, not after a connect timeout.
    expect(Math.max(...answers.map((x) => x.ms))).toBeLessThan(3000);

    // Up again.
    const startAt = Date.now();
    await cluster.start();
    const upAt = Date.now();
    const acksAtUp = countLines(producers, 'ACK ');
    const recovered: Record<string, number> = {};
    await Promise.all(
      ([['A', a], ['B', b]] as const).map(async ([name, s]) => {
        await waitFor(
          async () => {
            const r = await s.gql(READ).catch((e: Error) => {
              throw new Error(`${name} gave no answer after the restart (running: ${s.running}): ${e.message}\n${s.output.slice(-3000)}`);
            });
            return r.data?.queueStats;
          },
          `${name} to serve again`,
          20_000,
          50,
        );
        recovered[name] = Date.now() - upAt;
      }),
    );
    // The load resumes on its own: the clients' retries are acknowledged.
    await waitFor(() => countLines(producers, 'ACK ') >= acksAtUp + 10 && failures(everyone).length === 0, () => `acks after the restart (${failures(everyone).join('\n')})`, 20_000);
    // Both listeners are back (the instances reconnected them without being restarted).
    await waitFor(async () => (await listeners()) === 2, 'both listeners connected again', 20_000, 50);
    const listenersBackMs = Date.now() - upAt;
    for (const s of [a, b]) expect(s.output, 'the listener was lost and reconnected').toMatch(/event listener: .*reconnecting/);

    // Quiet: no writes on B, so only a notification can wake its feed.
    for (const p of producers) p.send('STOP');
    await Promise.all(producers.map((p) => p.waitForLine((l) => l.startsWith('END '), 30_000)));
    await waitFor(async () => Object.keys(await statusCounts(schema)).every((s) => s === 'SUCCEEDED'), 'every task SUCCEEDED', 30_000, 200);
    for (const w of workers) w.send('STOP');
    await Promise.all(workers.map((w) => w.waitForLine((l) => l.startsWith('END '), 30_000)));
    await Promise.all(everyone.map((c) => c.exited));
    expect(failures(everyone)).toEqual([]);
    const afterMs = await probe('after');
    expect(subErrors).toEqual([]);
    expect(seen.map((s) => s.label)).toEqual(['before', 'after']);
    await ws.dispose();

    // Nothing acknowledged was lost; every task completed once.
    const { acked, foundExisting } = acknowledged(producers);
    const { doneBy, lost } = completions([[workers[0]!, 'w0']]);
    const tasks = await taskRows(schema);
    expectEveryAckStored(acked, tasks);
    expect(tasks.length).toBe(acked.size);
    expect(tasks.filter((t) => t.status !== 'SUCCEEDED' || t.succeeded !== 1 || t.enqueued !== 1)).toEqual([]);
    // No enqueue tried while the database was down was stored.
    expect((await sql(`SELECT id FROM ${schema}.tasks WHERE idempotency_key LIKE 'down-%'`)).length).toBe(0);

    const clientRetries = JSON.parse(producers[0]!.lines.find((l) => l.startsWith('END '))!.split(' ')[2]!) as Record<string, number>;
    const workerRetries = JSON.parse(workers[0]!.lines.find((l) => l.startsWith('END '))!.split(' ').slice(-1)[0]!) as Record<string, number>;
    // The clients met UNAVAILABLE answers too, and nothing but retryable ones.
    expect(clientRetries.UNAVAILABLE ?? 0).toBeGreaterThan(0);

    for (const s of [a, b]) {
      const exit = await s.stop();
      expect(exit, s.output.slice(-2000)).toEqual({ code: 0, signal: null });
    }
    const messages = [...new Set(answers.map((x) => x.code))];
    const unavailableText = producers[0]!.lines.find((l) => l.startsWith('END '))!.split(' ').slice(3).join(' ');
    console.log(
      `pg restart: stop took ${downAt - stopAt} ms, down ${startAt - downAt} ms, start took ${upAt - startAt} ms; while down ${answers.length} requests answered ` +
        `${messages.join(',')} in ${Math.min(...answers.map((x) => x.ms))}-${Math.max(...answers.map((x) => x.ms))} ms (HTTP ${[...new Set(answers.map((x) => x.status))].join(',')}); ` +
        `serving again ${JSON.stringify(recovered)} ms after the start; both listeners back ${listenersBackMs} ms after; probe B<-A ${beforeMs} ms before, ${afterMs} ms after; ` +
        `${tasks.length} tasks, ${doneBy.size} completions acknowledged, ${lost} LEASE_LOST, ${foundExisting} resends found the task; ` +
        `producer retries ${JSON.stringify(clientRetries)} ${unavailableText}, worker retries ${JSON.stringify(workerRetries)}`,
    );
  });
});
