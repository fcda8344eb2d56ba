/**
 * Access control (issue 6): open admin while no token exists; tokens on every transport;
 * the role matrix from the scopes; the per-object rules (a producer's own tasks, a
 * worker's own id and leases); revocation; tokens stored as hashes; the token commands;
 * the refusal to serve an open server on the network; introspection and GraphiQL off.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { schema } from '../../src/graphql/schema.js';
import { openStore } from '../../src/store/index.js';
import {
  ACTS_AS,
  OPS,
  allowedPairs,
  deniedPairs,
  transportsFor,
  type OpSpec,
} from './matrix.js';
import {
  W1,
  W2,
  call,
  callWs,
  describeOutcome,
  expectNoLeak,
  expectRefused,
  expectSuccess,
  newDatabase,
  rawHttp,
  rows,
  sleep,
  sseRequest,
  startFixture,
  storedData,
  waitFor,
  type Fixture,
  type Outcome,
  type Transport,
} from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

async function run(fx: Fixture, op: OpSpec, transport: Transport, token: string | undefined, withTrigger = true): Promise<Outcome> {
  const prepared = await op.prepare(fx);
  return call(fx, transport, {
    query: op.document,
    variables: prepared.variables,
    token,
    trigger: withTrigger ? prepared.trigger : undefined,
  });
}

describe('the operation table', () => {
  it('names every root field of the schema exactly once, with its kind', () => {
    const fields = (kind: 'query' | 'mutation' | 'subscription') => {
      const type = kind === 'query' ? schema.getQueryType() : kind === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
      return Object.keys(type!.getFields()).sort();
    };
    for (const kind of ['query', 'mutation', 'subscription'] as const) {
      expect(OPS.filter((o) => o.kind === kind).map((o) => o.field).sort()).toEqual(fields(kind));
    }
  });
});

describe('with no token created, access control is off', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture({ tokens: false });
  });
  afterAll(() => fx.stop());

  for (const op of OPS) {
    for (const transport of transportsFor(op)) {
      it(`${op.kind} ${op.field} over ${transport} works without a token`, async () => {
        const o = await run(fx, op, transport, undefined);
        expectSuccess(o, op.field);
      });
    }
  }

  it('a made-up Authorization header is ignored while no token exists', async () => {
    const o = await call(fx, 'http', { query: '{ workers { id } }', token: 'whatever' });
    expectSuccess(o, 'workers');
  });
});

describe('with tokens', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(() => fx.stop());

  describe('no token, or a token the server does not know', () => {
    for (const op of OPS) {
      for (const transport of transportsFor(op)) {
        it(`${op.kind} ${op.field} over ${transport} without a token: UNAUTHENTICATED`, async () => {
          const o = await run(fx, op, transport, undefined, false);
          expectRefused(o, { codes: ['UNAUTHENTICATED'], field: op.field });
          if (transport === 'http') expect(o.status, describeOutcome(o)).toBe(401);
          if (transport === 'ws') expect(o.closeCode, describeOutcome(o)).toBe(4403);
          expectNoLeak(o);
        });
      }
    }

    const badHeaders: [string, string][] = [
      ['an unknown token', 'Bearer tw_0123456789ab_' + 'A'.repeat(43)],
      ['garbage', 'Bearer garbage'],
      ['a real token with one character changed', ''],
      ['Basic auth', 'Basic YWRtaW46YWRtaW4='],
      ['an empty bearer', 'Bearer '],
      ['SQL', "Bearer ' OR '1'='1"],
      ['an 8 KB token', 'Bearer ' + 'x'.repeat(8_000)],
    ];
    for (const [name, header] of badHeaders) {
      for (const transport of ['http', 'ws', 'sse'] as const) {
        it(`${name} over ${transport}: UNAUTHENTICATED`, async () => {
          const value = header || `Bearer ${fx.tokens.admin.slice(0, -1)}${fx.tokens.admin.endsWith('A') ? 'B' : 'A'}`;
          let o: Outcome;
          if (transport === 'http') {
            o = await rawHttp(fx, {
              headers: { 'content-type': 'application/json', authorization: value },
              body: JSON.stringify({ query: '{ workers { id } }' }),
            });
            expect(o.status, describeOutcome(o)).toBe(401);
          } else if (transport === 'sse') {
            o = await sseRequest(fx, JSON.stringify({ query: '{ workers { id } }' }), { headers: { authorization: value } });
          } else {
            o = await wsWithParams(fx, { authorization: value });
            expect(o.closeCode, describeOutcome(o)).toBe(4403);
          }
          expectRefused(o, { codes: ['UNAUTHENTICATED'], field: 'workers' });
          expectNoLeak(o);
        });
      }
    }

    it('graphql-ws connectionParams that are not a string token close the socket with 4403', async () => {
      for (const params of [{ authorization: 42 }, { authorization: { token: fx.tokens.admin } }, { authorization: [fx.tokens.admin] }, {}]) {
        const o = await wsWithParams(fx, params);
        expect(o.closeCode, JSON.stringify(params)).toBe(4403);
      }
    });

    it('a WebSocket with a bad token is closed at connection init, before any operation runs', async () => {
      const before = (await rows<{ c: number }>(fx, 'SELECT count(*) AS c FROM tasks'))[0]!.c;
      const o = await callWs(fx, {
        query: 'mutation { enqueueTask(input: { type: "x", payload: {} }) { created } }',
        token: 'tw_0123456789ab_' + 'B'.repeat(43),
      });
      expect(o.closeCode).toBe(4403);
      expect(o.data).toBeUndefined();
      expect((await rows<{ c: number }>(fx, 'SELECT count(*) AS c FROM tasks'))[0]!.c).toBe(before);
    });

    it('a subscription posted as plain JSON is refused either way, and without a token gets nothing', async () => {
      const o = await call(fx, 'http', { query: 'subscription { workerUpdated { id } }' });
      expect(o.status! >= 400 && o.status! < 500, describeOutcome(o)).toBe(true);
      expect(o.data ?? null).toBeNull();
    });

    // Issue 6: "HTTP and SSE carry Authorization: Bearer <token>"; a request without one is
    // answered 401. The JSON fast path does; the requests yoga serves itself do not.
    it('GET /graphql without a token is answered 401 UNAUTHENTICATED', async () => {
      const o = await rawHttp(fx, { method: 'GET', path: `/graphql?query=${encodeURIComponent('{ workers { id } }')}`, headers: { accept: 'application/json' } });
      expectRefused(o, { codes: ['UNAUTHENTICATED'], field: 'workers' });
      expect(o.status, describeOutcome(o)).toBe(401);
    });

    it('an SSE request without a token is answered 401 UNAUTHENTICATED', async () => {
      const o = await sseRequest(fx, JSON.stringify({ query: 'subscription { queueStatsUpdated { activeWorkers } }' }));
      expectRefused(o, { codes: ['UNAUTHENTICATED'], field: 'queueStatsUpdated' });
      expect(o.status, describeOutcome(o)).toBe(401);
    });
  });

  describe('revocation', () => {
    async function freshToken(role: 'admin' | 'viewer' = 'viewer') {
      return fx.store.createToken({ name: fx.unique('rev'), role });
    }

    it('a token revoked in this process stops working at once, on every transport', async () => {
      const { token, info } = await freshToken();
      expectSuccess(await call(fx, 'http', { query: '{ workers { id } }', token }), 'workers');
      await fx.store.revokeToken(info.id);
      const http = await call(fx, 'http', { query: '{ workers { id } }', token });
      expectRefused(http, { codes: ['UNAUTHENTICATED'], field: 'workers' });
      expect(http.status).toBe(401);
      expectRefused(await call(fx, 'sse', { query: '{ workers { id } }', token }), { codes: ['UNAUTHENTICATED'] });
      expect((await call(fx, 'ws', { query: '{ workers { id } }', token })).closeCode).toBe(4403);
    });

    it('a token revoked by another process (the CLI) stops working within about a second', async () => {
      const { token, info } = await freshToken();
      // Warm the server's verification cache.
      expectSuccess(await call(fx, 'http', { query: '{ workers { id } }', token }), 'workers');
      expectSuccess(await call(fx, 'ws', { query: '{ workers { id } }', token }), 'workers');
      const other = await openStore({ database: fx.database, role: 'command' });
      await other.revokeToken(info.id);
      await other.close();
      const revokedAt = Date.now();
      await waitFor(async () => (await call(fx, 'http', { query: '{ workers { id } }', token })).status === 401, 'HTTP 401 after revocation', 2500);
      await waitFor(async () => (await call(fx, 'ws', { query: '{ workers { id } }', token })).closeCode === 4403, 'WS 4403 after revocation', 2500);
      const sse = await call(fx, 'sse', { query: '{ workers { id } }', token });
      expectRefused(sse, { codes: ['UNAUTHENTICATED'] });
      expect(Date.now() - revokedAt).toBeLessThan(3000);
    });

    // Revoking the only token left must not turn a running server into an open admin one
    // (possibly bound to a public address, where an open server is refused at start).
    it('revoking the last active token does not switch access control off', async () => {
      const own = await startFixture({ tokens: false });
      try {
        const { token, info } = await own.store.createToken({ name: 'only', role: 'viewer' });
        expectSuccess(await call(own, 'http', { query: '{ workers { id } }', token }), 'workers');
        expectRefused(await call(own, 'http', { query: '{ workers { id } }' }), { codes: ['UNAUTHENTICATED'] });
        await own.store.revokeToken(info.id);
        for (const t of [token, undefined]) {
          const o = await call(own, 'http', { query: 'mutation { enqueueTask(input: { type: "x", payload: {} }) { created } }', token: t });
          expectRefused(o, { codes: ['UNAUTHENTICATED'], field: 'enqueueTask' });
          expect(o.status, describeOutcome(o)).toBe(401);
        }
        expect((await callWs(own, { query: '{ workers { id } }', token })).closeCode).toBe(4403);
      } finally {
        await own.stop();
      }
    });

    // A revoked token must stop working; a WebSocket opened before the revocation keeps
    // the principal it was given at connection init for as long as it stays open.
    it('a token revoked while its WebSocket is open stops working on that socket too', async () => {
      const { token, info } = await freshToken('admin');
      let connects = 0;
      let firstSocketClosed: number | undefined;
      const client = createClient({
        url: fx.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false, // one socket for the whole test
        connectionParams: { authorization: `Bearer ${token}` },
        on: {
          connected: () => void connects++,
          closed: (e) => {
            if (connects === 1) firstSocketClosed ??= (e as { code: number }).code;
          },
        },
      });
      const once = () =>
        new Promise<{ ok: boolean; detail: string }>((resolve) => {
          client.subscribe(
            { query: 'mutation { enqueueTask(input: { type: "after-revoke", payload: {} }) { created } }' },
            {
              next: (v) => resolve({ ok: !v.errors?.length, detail: JSON.stringify(v) }),
              error: (e) => resolve({ ok: false, detail: Array.isArray(e) ? JSON.stringify(e) : `closed ${String((e as { code?: number }).code)}` }),
              complete: () => {},
            },
          );
        });
      try {
        expect((await once()).ok).toBe(true);
        expect(connects).toBe(1);
        await fx.store.revokeToken(info.id);
        const revokedAt = Date.now();
        let refused = false;
        let last = '';
        while (!refused && Date.now() - revokedAt < 2500) {
          if (firstSocketClosed !== undefined) {
            refused = true; // the server closed the revoked token's socket
            break;
          }
          const r = await once();
          last = r.detail;
          // A refusal counts only on the socket opened before the revocation, not on a reconnect.
          if (!r.ok && connects === 1) refused = true;
          else await sleep(100);
        }
        expect(refused, `the revoked token still works over the socket it opened earlier (last answer: ${last})`).toBe(true);
      } finally {
        await client.dispose();
      }
    });
  });

  describe('the role matrix', () => {
    for (const { op, role } of deniedPairs()) {
      for (const transport of transportsFor(op)) {
        it(`${role} may not call ${op.kind} ${op.field} (over ${transport}): FORBIDDEN`, async () => {
          const o = await run(fx, op, transport, fx.tokens[ACTS_AS[role]], false);
          expectRefused(o, { codes: ['FORBIDDEN'], field: op.field });
          expect(o.errors.length, describeOutcome(o)).toBeGreaterThan(0);
          expectNoLeak(o);
        });
      }
    }
    for (const { op, role } of allowedPairs()) {
      for (const transport of transportsFor(op)) {
        it(`${role} may call ${op.kind} ${op.field} (over ${transport})`, async () => {
          const o = await run(fx, op, transport, fx.tokens[ACTS_AS[role]]);
          expectSuccess(o, op.field);
          if (op.field === 'claimTasks') expect(o.data!.claimTasks).toHaveLength(1);
          if (op.field === 'heartbeat') expect((o.data!.heartbeat as { leases: { lost: boolean }[] }).leases).toEqual([expect.objectContaining({ lost: false })]);
        });
      }
    }
  });

  describe('producers cancel only what they enqueued', () => {
    const cancel = 'mutation M($id: ID!) { cancelTask(id: $id) { id status } }';
    for (const transport of ['http', 'ws', 'sse'] as const) {
      it(`a producer cancelling another producer's task gets FORBIDDEN and the task stays QUEUED (${transport})`, async () => {
        const task = await fx.queuedTask('producer');
        const o = await call(fx, transport, { query: cancel, variables: { id: String(task.id) }, token: fx.tokens.producer2 });
        expectRefused(o, { codes: ['FORBIDDEN'], field: 'cancelTask' });
        expect((await fx.store.getTask(task.id))!.status).toBe('QUEUED');
      });
    }

    it("a producer may not cancel an admin's task either, nor one enqueued while access control was off", async () => {
      for (const by of ['admin', null] as const) {
        const { task } = await fx.store.enqueue({ type: 't', queue: fx.unique('q'), payload: {}, createdBy: by && fx.tokenIds[by] });
        const o = await call(fx, 'http', { query: cancel, variables: { id: String(task.id) }, token: fx.tokens.producer });
        expectRefused(o, { codes: ['FORBIDDEN'], field: 'cancelTask' });
        expect((await fx.store.getTask(task.id))!.status).toBe('QUEUED');
      }
    });

    it('a task enqueued through the API records its producer, who may then cancel it; an admin may cancel anyone\'s', async () => {
      const enq = await call(fx, 'http', {
        query: 'mutation { enqueueTask(input: { type: "mine", payload: {} }) { task { id } } }',
        token: fx.tokens.producer,
      });
      expectSuccess(enq, 'enqueueTask');
      const id = (enq.data!.enqueueTask as { task: { id: string } }).task.id;
      const rowsFor = await rows<{ created_by: string }>(fx, `SELECT created_by FROM tasks WHERE type = 'mine'`);
      expect(rowsFor).toEqual([{ created_by: fx.tokenIds.producer }]);
      expectSuccess(await call(fx, 'http', { query: cancel, variables: { id }, token: fx.tokens.producer }), 'cancelTask');
      const other = await fx.queuedTask('producer2');
      expectSuccess(await call(fx, 'http', { query: cancel, variables: { id: String(other.id) }, token: fx.tokens.admin }), 'cancelTask');
    });
  });

  describe('workers act only as their own worker id, on their own leases', () => {
    for (const transport of ['http', 'ws', 'sse'] as const) {
      it(`claimTasks and heartbeat as another worker id: FORBIDDEN, nothing claimed (${transport})`, async () => {
        const task = await fx.queuedTask();
        const claim = await call(fx, transport, {
          query: 'mutation M($input: ClaimTasksInput!) { claimTasks(input: $input) { leaseToken } }',
          variables: { input: { workerId: W2, queue: task.queue } },
          token: fx.tokens.worker,
        });
        expectRefused(claim, { codes: ['FORBIDDEN'], field: 'claimTasks' });
        expect((await fx.store.getTask(task.id))!.status).toBe('QUEUED');
        const hb = await call(fx, transport, {
          query: 'mutation M($input: HeartbeatInput!) { heartbeat(input: $input) { worker { id } } }',
          variables: { input: { workerId: 'someone-else' } },
          token: fx.tokens.worker,
        });
        expectRefused(hb, { codes: ['FORBIDDEN'], field: 'heartbeat' });
        expect(await fx.store.getWorker('someone-else')).toBeNull();
      });
    }

    const leaseCalls: { field: string; query: string; input: (taskId: string, leaseToken: string) => Record<string, unknown> }[] = [
      {
        field: 'reportProgress',
        query: 'mutation M($input: ReportProgressInput!) { reportProgress(input: $input) { id } }',
        input: (taskId, leaseToken) => ({ input: { taskId, leaseToken, progress: 0.9 } }),
      },
      {
        field: 'completeTask',
        query: 'mutation M($input: CompleteTaskInput!) { completeTask(input: $input) { id } }',
        input: (taskId, leaseToken) => ({ input: { taskId, leaseToken, result: { stolen: true } } }),
      },
      {
        field: 'completeTasks',
        query: 'mutation M($inputs: [CompleteTaskInput!]!) { completeTasks(inputs: $inputs) { id } }',
        input: (taskId, leaseToken) => ({ inputs: [{ taskId, leaseToken }] }),
      },
      {
        field: 'failTask',
        query: 'mutation M($input: FailTaskInput!) { failTask(input: $input) { id } }',
        input: (taskId, leaseToken) => ({ input: { taskId, leaseToken, error: 'sabotage', retryable: false } }),
      },
      {
        field: 'appendTaskLog',
        query: 'mutation M($input: AppendTaskLogInput!) { appendTaskLog(input: $input) { id } }',
        input: (taskId, leaseToken) => ({ input: { taskId, leaseToken, level: 'ERROR', message: 'not mine' } }),
      },
    ];
    for (const c of leaseCalls) {
      for (const transport of ['http', 'ws', 'sse'] as const) {
        it(`${c.field} on another worker's lease, with its lease token: FORBIDDEN or LEASE_LOST, the lease untouched (${transport})`, async () => {
          const { task, leaseToken } = await fx.runningTask(W1);
          const before = await rows(fx, 'SELECT * FROM tasks WHERE id = ?', task.id);
          const logsBefore = await rows(fx, 'SELECT * FROM task_logs WHERE task_id = ?', task.id);
          const o = await call(fx, transport, { query: c.query, variables: c.input(String(task.id), leaseToken), token: fx.tokens.worker2 });
          expectRefused(o, { codes: ['FORBIDDEN', 'LEASE_LOST'], field: c.field });
          expect(o.errors.length).toBeGreaterThan(0);
          expect(await rows(fx, 'SELECT * FROM tasks WHERE id = ?', task.id)).toEqual(before);
          expect(await rows(fx, 'SELECT * FROM task_logs WHERE task_id = ?', task.id)).toEqual(logsBefore);
          // The rightful holder still holds it.
          await fx.store.complete({ taskId: task.id, leaseToken, holder: W1 });
        });
      }
    }

    it('a worker may not log on a task without presenting its lease', async () => {
      const { task } = await fx.runningTask(W1);
      const o = await call(fx, 'http', {
        query: 'mutation M($input: AppendTaskLogInput!) { appendTaskLog(input: $input) { id } }',
        variables: { input: { taskId: String(task.id), level: 'INFO', message: 'no lease' } },
        token: fx.tokens.worker,
      });
      expectRefused(o, { codes: ['FORBIDDEN'], field: 'appendTaskLog' });
      expect(await rows(fx, 'SELECT * FROM task_logs WHERE task_id = ?', task.id)).toEqual([]);
    });

    it('a worker heartbeat does not extend a lease that another worker holds', async () => {
      const { task, leaseToken } = await fx.runningTask(W1);
      const [before] = await rows<{ lease_until: number }>(fx, 'SELECT lease_until FROM tasks WHERE id = ?', task.id);
      const o = await call(fx, 'http', {
        query: 'mutation M($input: HeartbeatInput!) { heartbeat(input: $input) { leases { taskId lost leaseUntil } } }',
        variables: { input: { workerId: W2, extendSeconds: 86_400, leases: [{ taskId: String(task.id), leaseToken }] } },
        token: fx.tokens.worker2,
      });
      const [after] = await rows<{ lease_until: number }>(fx, 'SELECT lease_until FROM tasks WHERE id = ?', task.id);
      expect(after!.lease_until, `w2 extended w1's lease: ${describeOutcome(o)}`).toBe(before!.lease_until);
      if (o.errors.length) expectRefused(o, { codes: ['FORBIDDEN', 'LEASE_LOST'] });
      else expect((o.data!.heartbeat as { leases: { lost: boolean }[] }).leases[0]!.lost, describeOutcome(o)).toBe(true);
    });

    it('a claim made with a worker token is locked by its worker id', async () => {
      const task = await fx.queuedTask();
      const o = await call(fx, 'http', {
        query: 'mutation M($input: ClaimTasksInput!) { claimTasks(input: $input) { task { id } } }',
        variables: { input: { workerId: W1, queue: task.queue } },
        token: fx.tokens.worker,
      });
      expectSuccess(o, 'claimTasks');
      expect(await rows(fx, 'SELECT locked_by FROM tasks WHERE id = ?', task.id)).toEqual([{ locked_by: W1 }]);
    });

    it("an admin may act on any worker's lease", async () => {
      const { task, leaseToken } = await fx.runningTask(W2);
      const o = await call(fx, 'http', {
        query: 'mutation M($input: CompleteTaskInput!) { completeTask(input: $input) { status } }',
        variables: { input: { taskId: String(task.id), leaseToken } },
        token: fx.tokens.admin,
      });
      expectSuccess(o, 'completeTask');
      expect((o.data!.completeTask as { status: string }).status).toBe('SUCCEEDED');
    });
  });

  describe('tokens at rest', () => {
    it('are stored only as hashes: no column and no byte of the database holds a secret', async () => {
      const made = [await fx.store.createToken({ name: 'at-rest', role: 'admin' }), await fx.store.createToken({ name: 'at-rest-2', role: 'worker', workerId: 'wr' })];
      const all = [...Object.values(fx.tokens), ...made.map((m) => m.token)];
      const tokenRows = await rows(fx, 'SELECT * FROM api_tokens');
      const stored = await storedData(fx);
      // The search has teeth: the tokens' public ids are stored, and found.
      for (const m of made) expect(stored.some((d) => d.bytes.includes(Buffer.from(m.info.id))), `token id ${m.info.id} in the stored data`).toBe(true);
      expect(tokenRows.length).toBeGreaterThanOrEqual(all.length);
      for (const token of all) {
        const secret = token.split('_').slice(2).join('_');
        expect(secret.length).toBeGreaterThanOrEqual(43); // 32 random bytes, base64url
        for (const row of tokenRows) {
          for (const [column, value] of Object.entries(row)) {
            expect(String(value).includes(secret), `api_tokens.${column} holds a secret`).toBe(false);
            expect(String(value)).not.toBe(token);
          }
        }
        for (const d of stored) expect(d.bytes.includes(Buffer.from(secret)), `${d.where} holds a secret`).toBe(false);
      }
      for (const row of tokenRows as { token_hash: string }[]) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(new Set(all).size).toBe(all.length);
    });

    it('listTokens never returns a secret or a hash', async () => {
      const text = JSON.stringify(await fx.store.listTokens());
      for (const token of Object.values(fx.tokens)) expect(text.includes(token.split('_').slice(2).join('_'))).toBe(false);
      for (const { token_hash } of await rows<{ token_hash: string }>(fx, 'SELECT token_hash FROM api_tokens')) expect(text.includes(token_hash)).toBe(false);
    });
  });
});

// ---------------------------------------------------------------- the CLI

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { cwd: ROOT, env: cleanEnv(env), timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number | string }).code as number) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TASKWIRE_') && k !== 'HOST' && k !== 'PORT' && k !== 'NODE_ENV') env[k] = v;
  return { ...env, ...extra };
}

describe('the token commands', () => {
  // One database for the three tests (the second counts the tokens the first made): a
  // file, or a PostgreSQL URL, for --db.
  let db: string;
  let remove: () => Promise<void>;
  beforeAll(() => {
    ({ database: db, remove } = newDatabase('cli'));
  });
  afterAll(() => remove());

  it('token create prints a token that authenticates, bound to its role and worker id; list hides it; revoke ends it', { timeout: 120_000 }, async () => {
    // An admin token too, so that revoking the worker token leaves access control on.
    const admin = await cli(['token', 'create', '--role', 'admin', '--name', 'ops', '--db', db]);
    expect(admin.code, admin.stderr).toBe(0);
    const created = await cli(['token', 'create', '--role', 'worker', '--name', 'w', '--db', db]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^tw_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const id = token.split('_')[1]!;
    expect(created.stderr).toContain(id);

    const listed = await cli(['token', 'list', '--db', db]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('worker');
    const secret = token.split('_').slice(2).join('_');
    expect(listed.stdout + listed.stderr).not.toContain(secret);

    const fx = await startFixture({ database: db, tokens: false });
    try {
      expectSuccess(await call(fx, 'http', { query: '{ workers { id } }', token }), 'workers');
      expectRefused(await call(fx, 'http', { query: '{ workers { id } }' }), { codes: ['UNAUTHENTICATED'] });
      // A worker token named "w" acts as worker "w", and only as "w".
      await fx.store.enqueue({ type: 't', queue: 'cliq', payload: {} });
      const claim = (workerId: string) =>
        call(fx, 'http', {
          query: 'mutation M($input: ClaimTasksInput!) { claimTasks(input: $input) { task { id } } }',
          variables: { input: { workerId, queue: 'cliq' } },
          token,
        });
      expectRefused(await claim('not-w'), { codes: ['FORBIDDEN'], field: 'claimTasks' });
      expectSuccess(await claim('w'), 'claimTasks');
      expectRefused(
        await call(fx, 'http', { query: 'mutation { enqueueTask(input: { type: "x", payload: {} }) { created } }', token }),
        { codes: ['FORBIDDEN'], field: 'enqueueTask' },
      );

      const revoked = await cli(['token', 'revoke', id, '--db', db]);
      expect(revoked.code, revoked.stderr).toBe(0);
      await waitFor(async () => (await call(fx, 'http', { query: '{ workers { id } }', token })).status === 401, 'the revoked token to be refused', 2500);
      expect((await rows<{ revoked_at: number | null }>(fx, 'SELECT revoked_at FROM api_tokens WHERE id = ?', id))[0]!.revoked_at).not.toBeNull();
      const relisted = await cli(['token', 'list', '--db', db]);
      expect(relisted.stdout).toContain(id);
      expect(relisted.stdout).not.toContain(secret);
    } finally {
      await fx.stop();
    }
  });

  it('token create with a bad role, or without a name, exits 2 and creates nothing', { timeout: 120_000 }, async () => {
    const badRole = await cli(['token', 'create', '--role', 'root', '--name', 'x', '--db', db]);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/role/);
    expect(badRole.stdout.trim()).toBe('');
    const noName = await cli(['token', 'create', '--role', 'admin', '--db', db]);
    expect(noName.code).toBe(2);
    const unknownFlag = await cli(['token', 'create', '--role', 'admin', '--name', 'x', '--sudo', '--db', db]);
    expect(unknownFlag.code).toBe(2);
    const listed = await cli(['token', 'list', '--db', db]);
    expect(listed.stdout).not.toMatch(/\broot\b/);
    expect(listed.stdout.split('\n').filter((l) => /^[0-9a-f]{12}\s/.test(l))).toHaveLength(2); // only the two tokens above
  });

  it('token revoke of an unknown id fails with exit code 1', { timeout: 60_000 }, async () => {
    const r = await cli(['token', 'revoke', 'ffffffffffff', '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT_FOUND|does not exist/);
  });
});

describe('serve refuses an open server on the network', { timeout: 60_000 }, () => {
  const removals: (() => Promise<void>)[] = [];
  /** A new database for TASKWIRE_DB (a file, or a PostgreSQL URL), removed after the tests. */
  const fresh = (name: string) => {
    const { database, remove } = newDatabase(name);
    removals.push(remove);
    return database;
  };
  afterAll(async () => {
    for (const remove of removals.splice(0)) await remove();
  });

  /** Starts `taskwire serve`; resolves when it prints its URL (then stops it) or exits. */
  function serve(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; url?: string; health?: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let url: string | undefined;
      let health: number | undefined;
      const killer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`serve neither started nor exited in 30s: ${stdout} ${stderr}`));
      }, 30_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /(http:\/\/\S+\/graphql)/.exec(stdout);
        if (m && !url) {
          url = m[1]!;
          const port = new URL(url.replace('0.0.0.0', '127.0.0.1')).port;
          fetch(`http://127.0.0.1:${port}/health`)
            .then((r) => (health = r.status))
            .catch(() => (health = 0))
            .finally(() => child.kill('SIGTERM'));
        }
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => {
        clearTimeout(killer);
        resolve({ code, stdout, stderr, url, health });
      });
    });
  }

  it('HOST=0.0.0.0 with no token: exits 2 with a message', async () => {
    const r = await serve({ HOST: '0.0.0.0', PORT: '0', TASKWIRE_DB: fresh('refuse') });
    expect(r.code).toBe(2);
    expect(r.url).toBeUndefined();
    expect(r.stderr).toMatch(/refusing to listen on 0\.0\.0\.0/);
    expect(r.stderr).toMatch(/token create/);
  });

  it('HOST=0.0.0.0 with TASKWIRE_ALLOW_OPEN=1: starts, and says access control is off', async () => {
    const r = await serve({ HOST: '0.0.0.0', PORT: '0', TASKWIRE_DB: fresh('open'), TASKWIRE_ALLOW_OPEN: '1' });
    expect(r.url, r.stderr).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/graphql$/);
    expect(r.health).toBe(200);
    expect(r.stdout).toMatch(/access control is OFF/);
  });

  it('HOST=0.0.0.0 with a token: starts with access control on', async () => {
    const db = fresh('closed');
    const s = await openStore({ database: db, role: 'command' });
    await s.createToken({ name: 'ops', role: 'admin' });
    await s.close();
    const r = await serve({ HOST: '0.0.0.0', PORT: '0', TASKWIRE_DB: db });
    expect(r.url, r.stderr).toBeDefined();
    expect(r.health).toBe(200);
    expect(r.stdout).not.toMatch(/access control is OFF/);
  });

  it('the default host (127.0.0.1) with no token starts and says access control is off', async () => {
    const r = await serve({ PORT: '0', TASKWIRE_DB: fresh('local') });
    expect(r.url, r.stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(r.stdout).toMatch(/access control is OFF/);
  });
});

// ---------------------------------------------------------------- introspection and GraphiQL

describe('introspection and GraphiQL', () => {
  const introspection = '{ __schema { queryType { name } types { name } } }';

  describe('switched off', () => {
    let fx: Fixture;
    beforeAll(async () => {
      fx = await startFixture({ introspection: false, graphiql: false });
    });
    afterAll(() => fx.stop());

    for (const transport of ['http', 'ws', 'sse'] as const) {
      it(`an introspection query is refused over ${transport}`, async () => {
        for (const query of [introspection, '{ __type(name: "Task") { fields { name } } }', getIntrospectionQuery()]) {
          const o = await call(fx, transport, { query, token: fx.tokens.admin });
          expectRefused(o, { codes: ['VALIDATION'] });
          expect(o.errors.length, describeOutcome(o)).toBeGreaterThan(0);
          expect(o.data ?? null).toBeNull();
          expect(o.raw).not.toContain('"queryType"');
        }
      });
    }

    it('introspection mixed into an ordinary query is refused, and the ordinary part does not run', async () => {
      for (const transport of ['http', 'ws', 'sse'] as const) {
        const o = await call(fx, transport, { query: '{ workers { id } __schema { types { name } } }', token: fx.tokens.admin });
        expectRefused(o, { codes: ['VALIDATION'] });
        expect(o.data ?? null).toBeNull();
      }
    });

    it('__typename still works', async () => {
      expectSuccess(await call(fx, 'http', { query: '{ __typename workers { __typename } }', token: fx.tokens.admin }), '__typename');
      expectSuccess(await call(fx, 'ws', { query: '{ __typename }', token: fx.tokens.admin }), '__typename');
    });

    it('GET /graphql for a browser does not serve GraphiQL', async () => {
      for (const path of ['/graphql', '/graphql?query=%7B__typename%7D']) {
        const o = await rawHttp(fx, { method: 'GET', path, headers: { accept: 'text/html,application/xhtml+xml' } });
        expect(o.raw.toLowerCase()).not.toContain('graphiql');
        expect(o.raw.toLowerCase()).not.toContain('<html');
      }
    });

    it('field suggestions do not reveal the schema', async () => {
      const o = await call(fx, 'http', { query: '{ workerz { id } }', token: fx.tokens.admin });
      expectRefused(o, { codes: ['VALIDATION'] });
      expect(o.raw).not.toMatch(/Did you mean/);
    });
  });

  it('are off by default when NODE_ENV=production, unless configured on', () => {
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ introspection: false, graphiql: false });
    expect(loadConfig({ NODE_ENV: 'production', TASKWIRE_INTROSPECTION: '1', TASKWIRE_GRAPHIQL: 'true' })).toMatchObject({ introspection: true, graphiql: true });
    expect(loadConfig({})).toMatchObject({ introspection: true, graphiql: true });
    expect(loadConfig({ TASKWIRE_INTROSPECTION: '0' })).toMatchObject({ introspection: false });
  });

  describe('switched on (the control)', () => {
    let fx: Fixture;
    beforeAll(async () => {
      fx = await startFixture({ introspection: true, graphiql: true });
    });
    afterAll(() => fx.stop());

    it('introspection answers over HTTP and WebSocket', async () => {
      for (const transport of ['http', 'ws'] as const) {
        const o = await call(fx, transport, { query: introspection, token: fx.tokens.viewer });
        expectSuccess(o, '__schema');
      }
    });

    it('GET /graphql for a browser serves GraphiQL', async () => {
      const o = await rawHttp(fx, { method: 'GET', path: '/graphql', headers: { accept: 'text/html' } });
      expect(o.status).toBe(200);
      expect(o.raw.toLowerCase()).toContain('graphiql');
    });
  });
});

/** A graphql-ws connection with arbitrary connectionParams; returns how it ended. */
async function wsWithParams(fx: Fixture, params: Record<string, unknown>): Promise<Outcome> {
  let closeCode: number | undefined;
  const client = createClient({
    url: fx.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: params,
    on: { closed: (e) => void (closeCode = (e as { code: number }).code) },
  });
  try {
    return await new Promise<Outcome>((resolve) => {
      client.subscribe(
        { query: '{ workers { id } }' },
        {
          next: (v) => resolve({ transport: 'ws', errors: (v.errors ?? []) as Outcome['errors'], data: v.data as Outcome['data'], raw: JSON.stringify(v) }),
          error: (e) =>
            resolve(
              Array.isArray(e)
                ? { transport: 'ws', errors: e, raw: JSON.stringify(e) }
                : { transport: 'ws', errors: [], closeCode: (e as { code?: number }).code ?? closeCode, raw: String((e as { reason?: string }).reason ?? '') },
            ),
          complete: () => resolve({ transport: 'ws', errors: [], closeCode, raw: '' }),
        },
      );
    });
  } finally {
    await client.dispose();
  }
}
