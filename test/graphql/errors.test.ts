/**
 * Expected errors carry the contract's extensions.code, the same over HTTP and over
 * WebSocket; unexpected errors are masked on both (no message, no detail, code
 * INTERNAL_SERVER_ERROR). On every driver; a SQLite connection closed under the server
 * is in errors-sqlite.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, expectMasked, makeApp, stopApps, wsClient, wsOnce, type GqlResult, type TestApp } from '../helpers/app.js';

afterEach(stopApps);

type Vars = Record<string, unknown> | undefined;

interface Case {
  name: string;
  code: string;
  query: string;
  /** Prepares the database; returns the variables of the operation. */
  setup?: (t: TestApp) => Promise<Vars>;
  variables?: Vars;
}

async function enqueueOne(t: TestApp): Promise<string> {
  const r = await t.ok(`mutation { enqueueTask(input: { type: "job", payload: {} }) { task { id } } }`);
  return r.enqueueTask.task.id;
}

async function claimOne(t: TestApp): Promise<{ id: string; token: string }> {
  const id = await enqueueOne(t);
  const r = await t.ok(`mutation { claimTasks(input: { workerId: "w1", types: ["job"] }) { leaseToken task { id } } }`);
  expect(r.claimTasks[0].task.id).toBe(id);
  return { id, token: r.claimTasks[0].leaseToken };
}

const CASES: Case[] = [
  { name: 'cancelTask of a missing id', code: 'NOT_FOUND', query: `mutation { cancelTask(id: "999999") { id } }` },
  {
    name: 'retryTask of a missing global id',
    code: 'NOT_FOUND',
    query: `mutation($id: ID!) { retryTask(id: $id) { id } }`,
    variables: { id: Buffer.from('Task:424242').toString('base64') },
  },
  {
    name: 'a payload that is not an object (literal)',
    code: 'VALIDATION',
    query: `mutation { enqueueTask(input: { type: "x", payload: 5 }) { task { id } } }`,
  },
  {
    name: 'a payload that is not an object (variable)',
    code: 'VALIDATION',
    query: `mutation($p: JSON!) { enqueueTask(input: { type: "x", payload: $p }) { task { id } } }`,
    variables: { p: [1, 2] },
  },
  {
    name: 'a bad DateTime (literal)',
    code: 'VALIDATION',
    query: `mutation { enqueueTask(input: { type: "x", payload: {}, runAfter: "next tuesday" }) { task { id } } }`,
  },
  {
    name: 'a bad DateTime (variable)',
    code: 'VALIDATION',
    query: `mutation($r: DateTime) { enqueueTask(input: { type: "x", payload: {}, runAfter: $r }) { task { id } } }`,
    variables: { r: 'next tuesday' },
  },
  {
    name: 'a DateTime without a zone (variable)',
    code: 'VALIDATION',
    query: `query($after: DateTime) { tasks(filter: { createdAfter: $after }) { totalCount } }`,
    variables: { after: '2026-01-31T12:00:00' },
  },
  {
    name: 'a negative waitSeconds',
    code: 'VALIDATION',
    query: `mutation { claimTasks(input: { workerId: "w1", waitSeconds: -1 }) { leaseToken } }`,
  },
  { name: 'a bad id string in cancelTask', code: 'VALIDATION', query: `mutation { cancelTask(id: "not-an-id") { id } }` },
  {
    name: 'a global id of another type where a task id is expected',
    code: 'VALIDATION',
    query: `query($id: ID!) { task(id: $id) { id } }`,
    variables: { id: Buffer.from('Worker:w1').toString('base64') },
  },
  { name: 'a bad id string in node(id)', code: 'VALIDATION', query: `{ node(id: "%%% not a global id %%%") { id } }` },
  { name: 'a page size over the limit', code: 'VALIDATION', query: `{ tasks(first: 501) { totalCount } }` },
  { name: 'a query far too expensive to run', code: 'VALIDATION', query: `{ tasks(first: 100000) { totalCount } }` },
  {
    name: 'progress outside 0..1',
    code: 'VALIDATION',
    query: `mutation($id: ID!, $token: String!) { reportProgress(input: { taskId: $id, leaseToken: $token, progress: 1.5 }) { id } }`,
    setup: async (t) => {
      const c = await claimOne(t);
      return { id: c.id, token: c.token };
    },
  },
  {
    name: 'runAfter and delaySeconds together',
    code: 'VALIDATION',
    query: `mutation { enqueueTask(input: { type: "x", payload: {}, runAfter: "2030-01-01T00:00:00Z", delaySeconds: 5 }) { task { id } } }`,
  },
  {
    name: 'retryTask of a QUEUED task',
    code: 'INVALID_STATE',
    query: `mutation($id: ID!) { retryTask(id: $id) { id } }`,
    setup: async (t) => ({ id: await enqueueOne(t) }),
  },
  {
    name: 'cancelTask of a SUCCEEDED task',
    code: 'INVALID_STATE',
    query: `mutation($id: ID!) { cancelTask(id: $id) { id } }`,
    setup: async (t) => {
      const c = await claimOne(t);
      await t.ok(`mutation($i: CompleteTaskInput!) { completeTask(input: $i) { id } }`, { i: { taskId: c.id, leaseToken: c.token } });
      return { id: c.id };
    },
  },
  {
    name: 'completeTask with a wrong lease token',
    code: 'LEASE_LOST',
    query: `mutation($id: ID!) { completeTask(input: { taskId: $id, leaseToken: "not-the-token" }) { id } }`,
    setup: async (t) => ({ id: (await claimOne(t)).id }),
  },
  {
    name: 'failTask after the task was completed',
    code: 'LEASE_LOST',
    query: `mutation($id: ID!, $token: String!) { failTask(input: { taskId: $id, leaseToken: $token, error: "x" }) { id } }`,
    setup: async (t) => {
      const c = await claimOne(t);
      await t.ok(`mutation($i: CompleteTaskInput!) { completeTask(input: $i) { id } }`, { i: { taskId: c.id, leaseToken: c.token } });
      return { id: c.id, token: c.token };
    },
  },
  // Errors in the request itself: graphql-js finds them before any resolver runs.
  { name: 'a syntax error', code: 'VALIDATION', query: `{ tasks { totalCount ` },
  { name: 'an unknown field', code: 'VALIDATION', query: `{ tasks { nope } }` },
  { name: 'a missing required variable', code: 'VALIDATION', query: `query($id: ID!) { task(id: $id) { id } }`, variables: {} },
];

/** One operation over SSE (accept: text/event-stream): the first result, or the JSON error answer. */
async function sseOnce(url: string, query: string, variables: Vars): Promise<GqlResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text) as GqlResult;
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    if (!lines.some((l) => l.trim() === 'event: next')) continue;
    const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
    return JSON.parse(data) as GqlResult;
  }
  throw new Error(`no result in the event stream: ${text.slice(0, 500)}`);
}

function expectCoded(r: GqlResult, c: Case, transport: string) {
  const what = `${c.name} over ${transport}: ${JSON.stringify(r)}`;
  expect(r.errors?.length, what).toBeGreaterThan(0);
  const first = r.errors![0]!;
  expect(first.extensions?.code, what).toBe(c.code);
  expect(first.message, what).not.toBe('Unexpected error.');
  expect(first.message.length, what).toBeGreaterThan(0);
}

describe('expected errors carry their code', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: over HTTP (yoga.fetch)', async (_name, c) => {
    const t = await makeApp();
    const variables = c.setup ? await c.setup(t) : c.variables;
    expectCoded(await t.gql(c.query, variables), c, 'HTTP (yoga.fetch)');
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: over HTTP on the real port', async (_name, c) => {
    const t = await makeApp();
    const { url } = await t.listen();
    const variables = c.setup ? await c.setup(t) : c.variables;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: c.query, variables }),
    });
    expectCoded((await res.json()) as GqlResult, c, 'HTTP (real port)');
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: over SSE', async (_name, c) => {
    const t = await makeApp();
    const { url } = await t.listen();
    const variables = c.setup ? await c.setup(t) : c.variables;
    expectCoded(await sseOnce(url, c.query, variables), c, 'SSE');
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: over WebSocket', async (_name, c) => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const variables = c.setup ? await c.setup(t) : c.variables;
    const client = wsClient(wsUrl);
    expectCoded(await wsOnce(client, c.query, variables), c, 'WebSocket');
  });

  it('a subscription refused for an expected reason gets its code over WebSocket', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    const client = wsClient(wsUrl);
    for (const [query, code] of [
      [`subscription { taskUpdated(id: "999999") { id } }`, 'NOT_FOUND'],
      [`subscription { taskUpdated(id: "nope") { id } }`, 'VALIDATION'],
      [`subscription { taskEvents(after: "not-a-cursor") { cursor } }`, 'VALIDATION'],
    ] as const) {
      const sub = collect(client, query);
      await sub.waitForEnd();
      const errors = (sub.errors[0] ?? sub.results[0]?.errors) as { extensions?: { code?: string } }[] | undefined;
      expect(Array.isArray(errors), `${query}: ${JSON.stringify(sub)}`).toBe(true);
      expect(errors![0]!.extensions?.code, query).toBe(code);
    }
  });
});

describe('unexpected errors are masked', () => {
  const SECRET = 'secret internal detail';

  function breakStore(t: TestApp) {
    const boom = async () => {
      throw new Error(SECRET);
    };
    Object.assign(t.store, { getTask: boom, enqueue: boom, listTasks: boom });
  }


  const OPS = [
    `{ task(id: "1") { id } }`,
    `{ tasks { edges { node { id } } } }`,
    `mutation { enqueueTask(input: { type: "x", payload: {} }) { task { id } } }`,
  ];

  it('over HTTP, in-process and on the real port', async () => {
    const t = await makeApp();
    const { url } = await t.listen();
    breakStore(t);
    for (const query of OPS) {
      for (const [where, send] of [
        ['yoga.fetch', (init: RequestInit) => t.app.yoga.fetch('http://localhost/graphql', init)],
        ['real port', (init: RequestInit) => fetch(url, init)],
      ] as const) {
        const res = await send({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
        const raw = await res.text();
        expectMasked(JSON.parse(raw) as GqlResult, raw, `${query} (${where})`);
      }
    }
  });

  it('over WebSocket, for queries, mutations and subscriptions', async () => {
    const t = await makeApp();
    const { wsUrl } = await t.listen();
    breakStore(t);
    const client = wsClient(wsUrl);
    for (const query of [...OPS, `subscription { taskUpdated(id: "1") { id } }`]) {
      const sub = collect(client, query);
      await sub.waitForEnd();
      const r: GqlResult = Array.isArray(sub.errors[0]) ? { errors: sub.errors[0] as never } : sub.results[0]!;
      expectMasked(r, JSON.stringify({ results: sub.results, errors: sub.errors }), query);
    }
  });

  it('logs each unexpected error once, with the id of its request', async () => {
    const lines: { msg?: string; reqId?: string; err?: { message?: string } }[] = [];
    const t = await makeApp({ log: (line) => lines.push(JSON.parse(line)) });
    const { url, wsUrl } = await t.listen();
    breakStore(t);
    const unexpected = () => lines.filter((l) => l.msg === 'unexpected error');
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: OPS[2] }) });
    await res.text();
    const httpId = res.headers.get('x-request-id');
    expect(httpId).toMatch(/^[\w-]{8,}$/);
    expect(unexpected()).toHaveLength(1);
    expect(unexpected()[0]!.reqId).toBe(httpId);
    expect(unexpected()[0]!.err?.message).toContain(SECRET);
    // A request id the client chose names the log line too.
    await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'client-42' }, body: JSON.stringify({ query: OPS[0] }) })).text();
    expect(unexpected()).toHaveLength(2);
    expect(unexpected()[1]!.reqId).toBe('client-42');
    const client = wsClient(wsUrl);
    const sub = collect(client, OPS[1]!);
    await sub.waitForEnd();
    expect(unexpected()).toHaveLength(3);
    expect(unexpected()[2]!.reqId).toMatch(/^ws:\d+\/.+/);
  });
});
