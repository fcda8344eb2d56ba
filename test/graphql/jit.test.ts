/**
 * Queries and mutations run compiled by graphql-jit (src/graphql/jit.ts) once a document
 * has run a few times; these check that it is used where it should be and nowhere else,
 * and that a compiled operation answers
 * as yoga's executor does: masked errors, expected errors with their code and locations,
 * variable errors, literals that read variables, multi-operation documents.
 */
import { parse, type ExecutionArgs } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { JIT_COMPILE_AFTER } from '../../src/graphql/jit.js';
import { makeApp, stopApps, wsClient, wsOnce, type GqlResult, type TestApp } from '../helpers/app.js';

afterEach(stopApps);

/**
 * Runs the document through the app's envelop pipeline as often as it takes to be
 * compiled (the same document object every time: yoga's parse cache); then whether it
 * ran compiled (the plugin marks its results with a `stringify`).
 */
async function runsCompiled(t: TestApp, query: string, variableValues?: Record<string, unknown>, operationName?: string): Promise<boolean> {
  const subscription = parse(query).definitions.some((d) => d.kind === 'OperationDefinition' && d.operation === 'subscription');
  let compiled = false;
  for (let run = 1; run <= JIT_COMPILE_AFTER; run++) {
    const enveloped = t.app.yoga.getEnveloped({});
    const args: ExecutionArgs = {
      schema: enveloped.schema,
      document: enveloped.parse(query),
      variableValues,
      operationName,
      contextValue: await enveloped.contextFactory(),
      rootValue: {},
    };
    const result = (await (subscription ? enveloped.subscribe(args) : enveloped.execute(args))) as { stringify?: unknown; return?: () => unknown };
    await result.return?.();
    compiled = typeof result.stringify === 'function';
    // Not before its time.
    if (run < JIT_COMPILE_AFTER) expect(compiled, `${query}: run ${run}`).toBe(false);
  }
  return compiled;
}

/** The same operation in-process (yoga.fetch), on the real port (the node:http fast path) and over graphql-ws. */
async function everywhere(t: TestApp, query: string, variables?: Record<string, unknown>) {
  const { url, wsUrl } = await t.listen();
  const post = async (send: (init: RequestInit) => Response | Promise<Response>) => {
    const res = await send({
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, raw: await res.text() };
  };
  const fetched = await post((init) => t.app.yoga.fetch('http://localhost/graphql', init));
  const port = await post((init) => fetch(url, init));
  const ws = await wsOnce(wsClient(wsUrl), query, variables);
  return [
    { where: 'yoga.fetch', status: fetched.status, raw: fetched.raw, result: JSON.parse(fetched.raw) as GqlResult },
    { where: 'real port', status: port.status, raw: port.raw, result: JSON.parse(port.raw) as GqlResult },
    { where: 'WebSocket', status: undefined, raw: JSON.stringify(ws), result: ws },
  ];
}

async function enqueueOne(t: TestApp): Promise<string> {
  const r = await t.ok(`mutation { enqueueTask(input: { type: "job", payload: {} }) { task { id } } }`);
  return r.enqueueTask.task.id;
}

describe('which operations run compiled', () => {
  it('queries and mutations do', async () => {
    const t = await makeApp();
    const id = await enqueueOne(t);
    expect(await runsCompiled(t, `query($id: ID!) { task(id: $id) { id status createdAt payload } }`, { id })).toBe(true);
    expect(await runsCompiled(t, `mutation($i: EnqueueTaskInput!) { enqueueTask(input: $i) { created } }`, { i: { type: 'x', payload: { a: 1 } } })).toBe(true);
    expect(await runsCompiled(t, `query Q { tasks { totalCount } }`, undefined, 'Q')).toBe(true);
  });

  it('subscriptions, several operations, directives, fragments before fields, JSON literals and bad variables do not', async () => {
    const t = await makeApp();
    const id = await enqueueOne(t);
    expect(await runsCompiled(t, `subscription($id: ID!) { taskUpdated(id: $id) { id } }`, { id })).toBe(false);
    expect(await runsCompiled(t, `query A { tasks { totalCount } } query B { lastEventCursor }`, undefined, 'B')).toBe(false);
    expect(await runsCompiled(t, `query($y: Boolean!) { tasks { totalCount @include(if: $y) } }`, { y: true })).toBe(false);
    expect(await runsCompiled(t, `{ tasks { ...F pageInfo { hasNextPage } } } fragment F on TaskConnection { totalCount }`)).toBe(false);
    expect(await runsCompiled(t, `mutation { enqueueTask(input: { type: "x", payload: { a: 1 } }) { created } }`)).toBe(false);
    expect(await runsCompiled(t, `query($a: DateTime) { tasks(filter: { createdAfter: $a }) { totalCount } }`, { a: 'tomorrow' })).toBe(false);
  });
});

describe('a compiled operation answers as graphql-js does', () => {
  it('masks a scalar that fails to serialize and a non-null field that resolved to null', async () => {
    const t = await makeApp();
    const id = await enqueueOne(t);
    const getTask = t.store.getTask.bind(t.store);
    for (const [field, broken] of [
      ['createdAt', { createdAt: Number.NaN }],
      ['status', { status: null }],
    ] as const) {
      Object.assign(t.store, { getTask: async (taskId: number) => ({ ...(await getTask(taskId)), ...broken }) });
      const query = `query($id: ID!) { task(id: $id) { id ${field} } }`;
      expect(await runsCompiled(t, query, { id }), query).toBe(true);
      for (const { where, raw, result } of await everywhere(t, query, { id })) {
        const what = `${field} (${where}): ${raw}`;
        expect(result.data, what).toEqual({ task: null });
        expect(result.errors, what).toEqual([{ message: 'Unexpected error.', path: ['task', field], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
        expect(raw, what).not.toMatch(/Invalid time value|non-nullable/);
      }
    }
  });

  it('keeps the code, message and locations of an expected error', async () => {
    const t = await makeApp();
    const query = `mutation($id: ID!) { cancelTask(id: $id) { id } }`;
    expect(await runsCompiled(t, query, { id: '999999' })).toBe(true);
    for (const { where, status, result } of await everywhere(t, query, { id: '999999' })) {
      if (status !== undefined) expect(status, where).toBe(200);
      expect(result, where).toEqual({
        errors: [
          {
            message: 'task 999999 does not exist',
            locations: [{ line: 1, column: 22 }],
            path: ['cancelTask'],
            extensions: { code: 'NOT_FOUND', id: 999999 },
          },
        ],
        data: null,
      });
    }
  });

  it('reports a variable that does not coerce with the scalar’s own message', async () => {
    const t = await makeApp();
    const query = `query($a: DateTime) { tasks(filter: { createdAfter: $a }) { totalCount } }`;
    for (const { where, status, result } of await everywhere(t, query, { a: '2026-01-01T00:00:00' })) {
      if (where === 'yoga.fetch') expect(status, where).toBe(400);
      expect(result.errors?.[0]?.message, where).toBe('Variable "$a" got invalid value "2026-01-01T00:00:00"; DateTime must look like 2026-01-31T12:00:00Z');
      expect(result.errors?.[0]?.extensions?.code, where).toBe('VALIDATION');
    }
  });

  it('keeps variables inside a JSON literal', async () => {
    const t = await makeApp();
    const query = `mutation($u: String) { enqueueTask(input: { type: "x", payload: { url: $u, list: [1, $u] } }) { task { payload } } }`;
    for (const { where, result } of await everywhere(t, query, { u: 'a.png' })) {
      expect(result, where).toEqual({ data: { enqueueTask: { task: { payload: { url: 'a.png', list: [1, 'a.png'] } } } } });
    }
  });

  it('runs the operation named, of a document with several', async () => {
    const t = await makeApp();
    await enqueueOne(t);
    const query = `query A { tasks { totalCount } } query B { lastEventCursor }`;
    const enveloped = t.app.yoga.getEnveloped({});
    const document = enveloped.parse(query);
    for (const [operationName, expected] of [
      ['A', { tasks: { totalCount: 1 } }],
      ['B', { lastEventCursor: expect.any(String) }],
      ['A', { tasks: { totalCount: 1 } }],
    ] as const) {
      const result = await enveloped.execute({ schema: enveloped.schema, document, operationName, contextValue: await enveloped.contextFactory(), rootValue: {} });
      expect(result, operationName).toEqual({ data: expected });
    }
  });

  it('keeps the order of fields, fragments included', async () => {
    const t = await makeApp();
    await enqueueOne(t);
    const query = `{ tasks { ...F edges { node { id } } } } fragment F on TaskConnection { totalCount }`;
    for (const { where, raw } of await everywhere(t, query)) {
      expect(Object.keys((JSON.parse(raw) as { data: { tasks: object } }).data.tasks), where).toEqual(['totalCount', 'edges']);
    }
  });
});
