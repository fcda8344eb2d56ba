/**
 * The hostile-input suite's table of cases, shared by hostile-http.test.ts,
 * hostile-ws.test.ts and hostile-sse.test.ts, and the runner that checks every case the
 * same way:
 *
 *   - a clear refusal: every error carries a code from the contract (and the one the case
 *     expects), or a WebSocket close with a 44xx code for protocol abuse, or an HTTP 4xx
 *     with such a code; never a 5xx, never a masked INTERNAL_SERVER_ERROR, never silence;
 *   - nothing internal in what the server sent (stack frames, file paths, SQLite or
 *     PostgreSQL messages, JS error classes);
 *   - the database unchanged (row counts and a digest of every row of every table), or,
 *     for the few inputs that must be accepted as plain data (SQL-looking strings), changed
 *     by exactly the rows they create;
 *   - the store's integrity check ok (SQLite: PRAGMA integrity_check), and GET /health
 *     answering 200 afterwards.
 *
 * It runs on every driver: the database is read through a connection of the test's own
 * (helpers.ts).
 *
 * Long on purpose: a table of cases, one entry each, read as a list.
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deniedPairs, ACTS_AS, OPS, transportsFor } from './matrix.js';
import {
  TABLES,
  W1,
  W2,
  call,
  describeOutcome,
  expectNoLeak,
  expectRefused,
  healthStatus,
  rawHttp,
  raw,
  rawUpgrade,
  rawWs,
  rows,
  snapshot,
  startFixture,
  tokenFor,
  withTimeout,
  type Caller,
  type Code,
  type Fixture,
  type FixtureOptions,
  type Frame,
  type GqlError,
  type Outcome,
  type Table,
  type Transport,
} from './helpers.js';

/** The app every hostile suite runs against. */
export const HOSTILE_APP: FixtureOptions = {
  // Above the 256 KiB payload limit (so that limit can be hit on its own), small enough
  // that an oversized body is quick to send.
  maxBodyBytes: 512 * 1024,
  maxSubscriptionsPerConnection: 5,
};
export const MAX_BODY = 512 * 1024;
export const MAX_PAYLOAD = 256 * 1024;
export const SUB_CAP = 5;

export type Category =
  | 'malformed body'
  | 'wrong variable types'
  | 'query shape'
  | 'oversized'
  | 'batches'
  | 'ids'
  | 'not an object'
  | 'numbers'
  | 'sql-looking strings'
  | 'schedules'
  | 'subscription flood'
  | 'garbage frames'
  | 'no token'
  | 'forbidden role'
  | 'not yours';

type Expectation =
  | { reject: readonly Code[]; field?: string; closeCodes?: readonly number[] }
  | {
      /** Checks the answer of an input that must be accepted as plain data. */
      accept: (o: Outcome, fx: Fixture, prepared: any) => void | Promise<void>;
      /** Tables it may change, with their exact change in row count. */
      changes: Partial<Record<Table, number>>;
    };

export interface HostileCase {
  category: Category;
  name: string;
  transports: readonly Transport[];
  prepare?: (fx: Fixture) => Promise<any>;
  run: (fx: Fixture, transport: Transport, prepared: any) => Promise<Outcome>;
  expect: Expectation;
}

const ALL: readonly Transport[] = ['http', 'ws', 'sse'];
const STREAMS: readonly Transport[] = ['ws', 'sse'];
const HTTPISH: readonly Transport[] = ['http', 'sse'];

const SQL = `'); DROP TABLE tasks;--`;
const SQL_OR = `' OR '1'='1`;

type Vars = Record<string, unknown>;

interface GqlSpec {
  as?: Caller;
  query: string;
  variables?: Vars | ((prepared: any, fx: Fixture) => Vars);
  operationName?: string;
  prepare?: (fx: Fixture) => Promise<any>;
  transports?: readonly Transport[];
  expect: Expectation;
}

/** A case that is one GraphQL request, sent over each transport it applies to. */
function gql(category: Category, name: string, spec: GqlSpec): HostileCase {
  const isSubscription = /^\s*subscription\b/.test(spec.query);
  return {
    category,
    name,
    transports: spec.transports ?? (isSubscription ? STREAMS : ALL),
    prepare: spec.prepare,
    expect: spec.expect,
    run: (fx, transport, prepared) =>
      call(fx, transport, {
        query: spec.query,
        variables: typeof spec.variables === 'function' ? spec.variables(prepared, fx) : spec.variables,
        operationName: spec.operationName,
        token: tokenFor(fx, spec.as ?? 'admin'),
      }),
  };
}

const reject = (codes: Code | readonly Code[], field?: string): Expectation => ({
  reject: typeof codes === 'string' ? [codes] : codes,
  field,
});
const V = (field?: string) => reject('VALIDATION', field);

// ---------------------------------------------------------------- documents used often

const ENQUEUE = 'mutation M($input: EnqueueTaskInput!) { enqueueTask(input: $input) { created task { id } } }';
const ENQUEUE_MANY = 'mutation M($inputs: [EnqueueTaskInput!]!) { enqueueTasks(inputs: $inputs) { created } }';
const CLAIM = 'mutation M($input: ClaimTasksInput!) { claimTasks(input: $input) { leaseToken task { id queue } } }';
const HEARTBEAT = 'mutation M($input: HeartbeatInput!) { heartbeat(input: $input) { leases { lost } } }';
const PROGRESS = 'mutation M($input: ReportProgressInput!) { reportProgress(input: $input) { id progress } }';
const COMPLETE = 'mutation M($input: CompleteTaskInput!) { completeTask(input: $input) { id } }';
const COMPLETE_MANY = 'mutation M($inputs: [CompleteTaskInput!]!) { completeTasks(inputs: $inputs) { id } }';
const FAIL_MANY = 'mutation M($inputs: [FailTaskInput!]!) { failTasks(inputs: $inputs) { id } }';
const RELEASE = 'mutation M($inputs: [LeaseInput!]!) { releaseTasks(inputs: $inputs) { id status } }';
const FAIL = 'mutation M($input: FailTaskInput!) { failTask(input: $input) { id } }';
const LOG = 'mutation M($input: AppendTaskLogInput!) { appendTaskLog(input: $input) { id message } }';
const CANCEL = 'mutation M($id: ID!) { cancelTask(id: $id) { id } }';
const RETRY = 'mutation M($id: ID!) { retryTask(id: $id) { id } }';
const TASK = 'query Q($id: ID!) { task(id: $id) { id } }';
const NODE = 'query Q($id: ID!) { node(id: $id) { id } }';
const UPSERT = 'mutation M($input: UpsertScheduleInput!) { upsertSchedule(input: $input) { name cron timezone taskType } }';
const LIMIT = 'mutation M($input: ConcurrencyLimitInput!) { setConcurrencyLimit(input: $input) { queue limit } }';

const running = (fx: Fixture) => fx.runningTask(W1);
const leaseVars = (extra: Vars) => (p: { task: { id: number }; leaseToken: string }) => ({
  input: { taskId: String(p.task.id), leaseToken: p.leaseToken, ...extra },
});
const schedule = (input: Vars) => ({ input: { name: 'hostile', task: { type: 't', payload: {} }, ...input } });

/** `depth` levels of dependsOn around `id`. */
function nest(depth: number): string {
  let inner = 'id';
  for (let i = 0; i < depth; i++) inner = `dependsOn { ${inner} }`;
  return inner;
}
/** A tasks query `depth` levels of dependsOn under tasks.edges.node. */
const deepTasks = (depth: number) => `{ tasks(first: 1) { edges { node { ${nest(depth)} } } } }`;

// ---------------------------------------------------------------- the table

export const CASES: HostileCase[] = [];
const add = (...cases: HostileCase[]) => void CASES.push(...cases);

// ---- malformed request bodies (HTTP and SSE: the same bytes, with accept: text/event-stream for SSE)

function bodyCase(name: string, body: string | Buffer, extra: { headers?: Record<string, string>; chunked?: boolean; codes?: Code[] } = {}): HostileCase {
  return {
    category: 'malformed body',
    name,
    transports: HTTPISH,
    run: (fx, transport) =>
      rawHttp(fx, {
        headers: {
          'content-type': 'application/json',
          ...(transport === 'sse' ? { accept: 'text/event-stream' } : {}),
          authorization: `Bearer ${fx.tokens.admin}`,
          ...extra.headers,
        },
        body,
        chunked: extra.chunked,
      }),
    expect: reject(extra.codes ?? 'VALIDATION'),
  };
}

add(
  bodyCase('invalid JSON', '{bad'),
  bodyCase('truncated JSON', '{"query":"{ workers { id'),
  bodyCase('an empty body', ''),
  bodyCase('a JSON array (batch) body', '[{"query":"{ workers { id } }"},{"query":"{ workers { id } }"}]'),
  bodyCase('an empty JSON array', '[]'),
  bodyCase('a JSON string body', '"{ workers { id } }"'),
  bodyCase('a JSON number body', '42'),
  bodyCase('a JSON null body', 'null'),
  bodyCase('no query', '{"variables":{}}'),
  bodyCase('an empty query', '{"query":""}'),
  bodyCase('a query that is a number', '{"query":5}'),
  bodyCase('a query that is an object', '{"query":{"kind":"Document"}}'),
  bodyCase('variables that are an array', '{"query":"{ workers { id } }","variables":[1,2]}'),
  bodyCase('variables that are a string', '{"query":"{ workers { id } }","variables":"x"}'),
  bodyCase('operationName that is a number', '{"query":"{ workers { id } }","operationName":7}'),
  bodyCase('bytes that are not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xfd, 0x22, 0x7d])),
  bodyCase('a NUL byte inside the query', '{"query":"{ workers\\u0000 { id } }"}'),
  // JSON.parse keeps the last "query": a harmless first one must not hide a bad second one.
  bodyCase('a duplicated key smuggling a second query', '{"query":"{ workers { id } }","query":"mutation { enqueueTask(input: { type: \\"t\\", payload: [] }) { created } }"}'),
);

add(
  bodyCase('a JSON body sent as text/plain', JSON.stringify({ query: 'mutation { enqueueTask(input: { type: "plain", payload: [] }) { created } }' }), {
    headers: { 'content-type': 'text/plain' },
  }),
  bodyCase('a form-encoded body', 'query=%7B%20workers%20%7B%20id%20%7D%20%7D&variables=%5B', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
  bodyCase('a multipart body without the parts GraphQL needs', '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{nope\r\n--x--\r\n', {
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
  }),
);
add({
  category: 'malformed body',
  name: 'PUT /graphql',
  transports: ['http'],
  run: (fx) =>
    rawHttp(fx, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fx.tokens.admin}` },
      body: JSON.stringify({ query: 'mutation { enqueueTask(input: { type: "put", payload: {} }) { created } }' }),
    }),
  expect: V('enqueueTask'),
});
add({
  category: 'malformed body',
  name: 'a mutation sent with GET',
  transports: ['http'],
  run: (fx) =>
    rawHttp(fx, {
      method: 'GET',
      path: `/graphql?query=${encodeURIComponent('mutation { enqueueTask(input: { type: "via-get", payload: {} }) { created } }')}`,
      headers: { accept: 'application/json', authorization: `Bearer ${fx.tokens.admin}` },
    }),
  expect: V('enqueueTask'),
});
add({
  category: 'malformed body',
  name: 'a GET with a broken query',
  transports: ['http'],
  run: (fx) =>
    rawHttp(fx, {
      method: 'GET',
      path: `/graphql?query=${encodeURIComponent('{ workers {')}`,
      headers: { accept: 'application/json', authorization: `Bearer ${fx.tokens.admin}` },
    }),
  expect: V(),
});
add({
  category: 'malformed body',
  name: 'a GET with variables that are not JSON',
  transports: ['http'],
  run: (fx) =>
    rawHttp(fx, {
      method: 'GET',
      path: `/graphql?query=${encodeURIComponent('query Q($id: ID!) { task(id: $id) { id } }')}&variables=%7Bnope`,
      headers: { accept: 'application/json', authorization: `Bearer ${fx.tokens.admin}` },
    }),
  expect: V('task'),
});

// ---- wrong variable types

add(
  gql('wrong variable types', 'an Int given a string (claim limit)', {
    as: 'worker',
    query: CLAIM,
    variables: { input: { workerId: W1, limit: 'ten' } },
    expect: V('claimTasks'),
  }),
  gql('wrong variable types', 'an ID given an object', { query: TASK, variables: { id: { $gt: 0 } }, expect: V('task') }),
  gql('wrong variable types', 'an ID given a boolean', { query: CANCEL, variables: { id: true }, expect: V('cancelTask') }),
  gql('wrong variable types', 'an ID given a fraction', { query: CANCEL, variables: { id: 3.7 }, expect: V('cancelTask') }),
  gql('wrong variable types', 'an input object given an array', { as: 'producer', query: ENQUEUE, variables: { input: [{ type: 't', payload: {} }] }, expect: V('enqueueTask') }),
  gql('wrong variable types', 'an input object given a string', { as: 'producer', query: ENQUEUE, variables: { input: 'type=t' }, expect: V('enqueueTask') }),
  gql('wrong variable types', 'an unknown field in an input object', {
    as: 'producer',
    query: ENQUEUE,
    variables: { input: { type: 't', payload: {}, status: 'SUCCEEDED' } },
    expect: V('enqueueTask'),
  }),
  gql('wrong variable types', 'an enum value that does not exist', {
    query: 'query Q($s: [TaskStatus!]) { tasks(filter: { status: $s }) { totalCount } }',
    variables: { s: ['DONE; DROP TABLE tasks'] },
    expect: V('tasks'),
  }),
  gql('wrong variable types', 'a Boolean given a string', {
    query: 'mutation M($e: Boolean!) { setScheduleEnabled(name: "x", enabled: $e) { name } }',
    variables: { e: 'yes' },
    expect: V('setScheduleEnabled'),
  }),
  gql('wrong variable types', 'a required variable missing', { query: TASK, variables: {}, expect: V('task') }),
  gql('wrong variable types', 'a variable declared with the wrong type', {
    query: 'query Q($id: Int!) { task(id: $id) { id } }',
    variables: { id: 1 },
    expect: V('task'),
  }),
  gql('wrong variable types', 'a DateTime that is not ISO-8601', {
    as: 'producer',
    query: ENQUEUE,
    variables: { input: { type: 't', payload: {}, runAfter: 'tomorrow at noon' } },
    expect: V('enqueueTask'),
  }),
  gql('wrong variable types', 'a DateTime without a zone', {
    as: 'producer',
    query: ENQUEUE,
    variables: { input: { type: 't', payload: {}, runAfter: '2030-01-01T00:00:00' } },
    expect: V('enqueueTask'),
  }),
  gql('wrong variable types', 'a DateTime given a number', {
    query: 'query Q($t: DateTime) { tasks(filter: { createdAfter: $t }) { totalCount } }',
    variables: { t: raw('1e400') },
    expect: V('tasks'),
  }),
  gql('wrong variable types', 'an undefined variable used in a JSON literal', {
    as: 'producer',
    query: 'mutation { enqueueTask(input: { type: "t", payload: { a: $nope } }) { created } }',
    expect: V('enqueueTask'),
  }),
  gql('wrong variable types', 'an operationName that names no operation', {
    query: 'query A { workers { id } }',
    operationName: 'B',
    expect: V('workers'),
  }),
  gql('wrong variable types', 'two anonymous operations', { query: '{ workers { id } } { schedules { name } }', expect: V('workers') }),
);

// ---- query shape: depth, width, aliases, tokens, directives

add(
  gql('query shape', 'a query 15 levels deep', { as: 'viewer', query: deepTasks(15), expect: V('tasks') }),
  gql('query shape', 'a query 40 levels deep through fragments', {
    as: 'viewer',
    query:
      '{ tasks(first: 1) { edges { node { ...F0 } } } } ' +
      Array.from({ length: 40 }, (_, i) => `fragment F${i} on Task { id dependents { ${i < 39 ? `...F${i + 1}` : 'id'} } }`).join(' '),
    expect: V('tasks'),
  }),
  gql('query shape', 'a fragment that spreads itself', {
    as: 'viewer',
    query: '{ tasks { edges { node { ...A } } } } fragment A on Task { dependsOn { ...A } }',
    expect: V('tasks'),
  }),
  gql('query shape', 'a wide query (every list, 500 per page, nested)', {
    as: 'viewer',
    query:
      '{ tasks(first: 500) { edges { node { id type payload dependsOn { id dependents { id lockedBy { id currentTasks { id logs(first: 500) { edges { node { id message task { id } } } } } } } } } } } }',
    expect: V('tasks'),
  }),
  gql('query shape', '40 aliases of one field', {
    as: 'viewer',
    query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: workers { id }`).join(' ')} }`,
    expect: V(),
  }),
  gql('query shape', '31 aliased enqueues in one mutation', {
    as: 'producer',
    query: `mutation { ${Array.from({ length: 31 }, (_, i) => `e${i}: enqueueTask(input: { type: "alias", payload: {} }) { created }`).join(' ')} }`,
    expect: V(),
  }),
  gql('query shape', '25 directives on one field', {
    as: 'viewer',
    query: `{ workers ${'@include(if: true) '.repeat(25)}{ id } }`,
    expect: V('workers'),
  }),
  gql('query shape', '6,000 tokens of repeated fields', { as: 'viewer', query: `{ workers { ${'id '.repeat(6000)}} }`, expect: V('workers') }),
  gql('query shape', '2,000 operations in one document', {
    as: 'viewer',
    query: Array.from({ length: 2000 }, (_, i) => `query Q${i} { workers { id } }`).join('\n'),
    operationName: 'Q0',
    expect: V('workers'),
  }),
  gql('query shape', 'a 20,000-item list literal', {
    as: 'viewer',
    query: `{ tasks(filter: { type: [${'"x",'.repeat(20_000)}] }) { totalCount } }`,
    expect: V('tasks'),
  }),
  gql('query shape', 'a deep introspection query', {
    as: 'viewer',
    query: '{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }',
    expect: V('__schema'),
  }),
  gql('query shape', 'a subscription 15 levels deep', {
    as: 'viewer',
    query: `subscription { taskUpdated(id: "1") { ${nest(15)} } }`,
    expect: V('taskUpdated'),
  }),
  gql('query shape', 'a subscription with two root fields', {
    as: 'viewer',
    query: 'subscription { workerUpdated { id } queueStatsUpdated { activeWorkers } }',
    expect: V(),
  }),
  gql('query shape', '40 aliased subscriptions', {
    as: 'viewer',
    query: `subscription { ${Array.from({ length: 40 }, (_, i) => `s${i}: workerUpdated { id }`).join(' ')} }`,
    expect: V(),
  }),
);

// ---- oversized payloads, bodies and messages

const big = (bytes: number) => 'x'.repeat(bytes);

add(
  gql('oversized', `a task payload over ${MAX_PAYLOAD / 1024} KiB`, {
    as: 'producer',
    query: ENQUEUE,
    variables: { input: { type: 't', payload: { blob: big(MAX_PAYLOAD + 1024) } } },
    expect: V('enqueueTask'),
  }),
  gql('oversized', `a batch whose second payload is over ${MAX_PAYLOAD / 1024} KiB (all or none)`, {
    as: 'producer',
    query: ENQUEUE_MANY,
    variables: { inputs: [{ type: 'small', payload: {} }, { type: 't', payload: { blob: big(MAX_PAYLOAD + 1024) } }] },
    expect: V('enqueueTasks'),
  }),
  gql('oversized', `a result over ${MAX_PAYLOAD / 1024} KiB`, {
    as: 'worker',
    prepare: running,
    query: COMPLETE,
    variables: leaseVars({ result: { blob: big(MAX_PAYLOAD + 1024) } }),
    expect: V('completeTask'),
  }),
  gql('oversized', 'a schedule template payload over the limit', {
    query: UPSERT,
    variables: schedule({ intervalSeconds: 60, task: { type: 't', payload: { blob: big(MAX_PAYLOAD + 1024) } } }),
    expect: V('upsertSchedule'),
  }),
  gql('oversized', 'a 300 KB task type', { as: 'producer', query: ENQUEUE, variables: { input: { type: big(300_000), payload: {} } }, expect: V('enqueueTask') }),
  gql('oversized', 'a 300 KB idempotency key', {
    as: 'producer',
    query: ENQUEUE,
    variables: { input: { type: 't', payload: {}, idempotencyKey: big(300_000) } },
    expect: V('enqueueTask'),
  }),
  gql('oversized', 'a 300 KB log message', {
    as: 'worker',
    prepare: running,
    query: LOG,
    variables: leaseVars({ level: 'INFO', message: big(300_000) }),
    expect: V('appendTaskLog'),
  }),
  gql('oversized', 'a 300 KB failure message', {
    as: 'worker',
    prepare: running,
    query: FAIL,
    variables: leaseVars({ error: big(300_000) }),
    expect: V('failTask'),
  }),
  gql('oversized', 'a payload nested 5,000 levels deep', {
    as: 'producer',
    query: ENQUEUE,
    variables: { input: { type: 'deep', payload: { a: raw('['.repeat(5000) + ']'.repeat(5000)) } } },
    expect: V('enqueueTask'),
  }),
  gql('oversized', 'capabilities with 10,000 keys', {
    as: 'worker',
    query: CLAIM,
    variables: { input: { workerId: W1, queue: 'nothing-here', capabilities: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'.repeat(10)])) } },
    expect: V('claimTasks'),
  }),
);

function tooBigBody(): string {
  return JSON.stringify({ query: 'mutation M($input: EnqueueTaskInput!) { enqueueTask(input: $input) { created } }', variables: { input: { type: 't', payload: { blob: big(MAX_BODY + 64 * 1024) } } } });
}

add(
  {
    category: 'oversized',
    name: `a request body over maxBodyBytes (${MAX_BODY / 1024} KiB), with Content-Length`,
    transports: HTTPISH,
    run: (fx, transport) =>
      rawHttp(fx, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${fx.tokens.admin}`, ...(transport === 'sse' ? { accept: 'text/event-stream' } : {}) },
        body: tooBigBody(),
      }),
    expect: V(),
  },
  {
    category: 'oversized',
    name: `a chunked request body over maxBodyBytes (${MAX_BODY / 1024} KiB)`,
    transports: HTTPISH,
    run: (fx, transport) =>
      rawHttp(fx, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${fx.tokens.admin}`, ...(transport === 'sse' ? { accept: 'text/event-stream' } : {}) },
        body: tooBigBody(),
        chunked: true,
      }),
    expect: V(),
  },
  {
    category: 'oversized',
    name: 'a Content-Length that claims 10 GB',
    transports: HTTPISH,
    run: (fx, transport) =>
      rawHttp(fx, {
        headers: {
          'content-type': 'application/json',
          'content-length': String(10 * 1024 ** 3),
          authorization: `Bearer ${fx.tokens.admin}`,
          ...(transport === 'sse' ? { accept: 'text/event-stream' } : {}),
        },
      }),
    expect: V(),
  },
  {
    category: 'oversized',
    name: `a WebSocket message over maxBodyBytes (${MAX_BODY / 1024} KiB)`,
    transports: ['ws'],
    run: (fx) => rawWs(fx, [initFrame(fx.tokens.admin), JSON.stringify({ id: '1', type: 'subscribe', payload: JSON.parse(tooBigBody()) })]),
    // 1009 (Message Too Big) is the WebSocket protocol's own code for this.
    expect: { reject: ['VALIDATION'], closeCodes: [1009] },
  },
  {
    category: 'oversized',
    name: 'a connection_init with a huge payload',
    transports: ['ws'],
    run: (fx) => rawWs(fx, [JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer x', junk: big(MAX_BODY + 1024) } })]),
    expect: { reject: ['VALIDATION'], closeCodes: [1009] },
  },
);

// ---- batches

add(
  gql('batches', 'enqueueTasks with 1,001 inputs', {
    as: 'producer',
    query: ENQUEUE_MANY,
    variables: { inputs: Array.from({ length: 1001 }, () => ({ type: 'b', payload: {} })) },
    expect: V('enqueueTasks'),
  }),
  gql('batches', 'enqueueTasks with a bad input last (all or none)', {
    as: 'producer',
    query: ENQUEUE_MANY,
    variables: { inputs: [...Array.from({ length: 50 }, () => ({ type: 'b', payload: {} })), { type: 'b', payload: [] }] },
    expect: V('enqueueTasks'),
  }),
  gql('batches', 'completeTasks with 1,001 inputs', {
    as: 'worker',
    prepare: running,
    query: COMPLETE_MANY,
    variables: (p) => ({ inputs: Array.from({ length: 1001 }, () => ({ taskId: String(p.task.id), leaseToken: p.leaseToken })) }),
    expect: V('completeTasks'),
  }),
  gql('batches', 'completeTasks with a lost lease last (all or none)', {
    as: 'worker',
    prepare: async (fx) => [await fx.runningTask(W1), await fx.runningTask(W1)],
    query: COMPLETE_MANY,
    variables: (p) => ({
      inputs: [
        { taskId: String(p[0].task.id), leaseToken: p[0].leaseToken },
        { taskId: String(p[1].task.id), leaseToken: 'not-the-lease' },
      ],
    }),
    expect: reject('LEASE_LOST', 'completeTasks'),
  }),
  gql('batches', 'failTasks with 1,001 inputs', {
    as: 'worker',
    prepare: running,
    query: FAIL_MANY,
    variables: (p) => ({ inputs: Array.from({ length: 1001 }, () => ({ taskId: String(p.task.id), leaseToken: p.leaseToken, error: 'x' })) }),
    expect: V('failTasks'),
  }),
  gql('batches', 'failTasks with a lost lease last (all or none)', {
    as: 'worker',
    prepare: async (fx) => [await fx.runningTask(W1), await fx.runningTask(W1)],
    query: FAIL_MANY,
    variables: (p) => ({
      inputs: [
        { taskId: String(p[0].task.id), leaseToken: p[0].leaseToken, error: 'x' },
        { taskId: String(p[1].task.id), leaseToken: 'not-the-lease', error: 'x' },
      ],
    }),
    expect: reject('LEASE_LOST', 'failTasks'),
  }),
  gql('batches', 'releaseTasks with 1,001 inputs', {
    as: 'worker',
    prepare: running,
    query: RELEASE,
    variables: (p) => ({ inputs: Array.from({ length: 1001 }, () => ({ taskId: String(p.task.id), leaseToken: p.leaseToken })) }),
    expect: V('releaseTasks'),
  }),
  gql('batches', 'claimTasks with limit 1,001', {
    as: 'worker',
    prepare: (fx) => fx.queuedTask(),
    query: CLAIM,
    variables: (t) => ({ input: { workerId: W1, queue: t.queue, limit: 1001 } }),
    expect: V('claimTasks'),
  }),
  gql('batches', 'heartbeat with 1,001 leases', {
    as: 'worker',
    prepare: running,
    query: HEARTBEAT,
    variables: (p) => ({ input: { workerId: W1, leases: Array.from({ length: 1001 }, () => ({ taskId: String(p.task.id), leaseToken: p.leaseToken })) } }),
    expect: V('heartbeat'),
  }),
  gql('batches', 'dependsOn with 101 tasks', {
    as: 'producer',
    prepare: (fx) => fx.queuedTask(),
    query: ENQUEUE,
    variables: (t) => ({ input: { type: 't', payload: {}, dependsOn: Array.from({ length: 101 }, () => String(t.id)) } }),
    expect: V('enqueueTask'),
  }),
  gql('batches', 'a page of 100,000 tasks', { as: 'viewer', query: '{ tasks(first: 100000) { totalCount } }', expect: V('tasks') }),
  gql('batches', 'a page of 100,000 logs', {
    as: 'viewer',
    query: '{ tasks(first: 1) { edges { node { logs(first: 100000) { edges { node { id } } } } } } }',
    prepare: (fx) => fx.queuedTask(),
    expect: V('tasks'),
  }),
);

// ---- invalid and unknown ids

const gid = (type: string, id: string | number) => encodeGlobalID(type, id);
const idCases: [string, string, unknown, Code][] = [
  ['task', 'a garbage string', 'garbage!!', 'VALIDATION'],
  ['task', 'a negative number', -1, 'VALIDATION'],
  ['task', 'a negative numeric string', '-5', 'VALIDATION'],
  ['task', 'a 20-digit number', '99999999999999999999', 'VALIDATION'],
  ['task', 'a huge number (1e400, Infinity once parsed)', raw('1e400'), 'VALIDATION'],
  ['task', "a Worker's global id", gid('Worker', 'w1'), 'VALIDATION'],
  ['task', "a TaskLog's global id", gid('TaskLog', 1), 'VALIDATION'],
  ['task', 'a Task global id with a SQL key', gid('Task', '1 OR 1=1'), 'VALIDATION'],
  ['cancelTask', 'an unknown task', '987654321', 'NOT_FOUND'],
  ['cancelTask', 'a garbage string', "1'; --", 'VALIDATION'],
  ['cancelTask', "a Schedule's global id", gid('Schedule', 'x'), 'VALIDATION'],
  ['cancelTask', 'a huge number', '1e400', 'VALIDATION'],
  ['retryTask', 'an unknown task', gid('Task', 987654321), 'NOT_FOUND'],
  ['retryTask', 'zero', '0', 'VALIDATION'],
  ['node', 'a garbage string', '%%%', 'VALIDATION'],
  ['node', 'an unknown type', gid('Nope', 1), 'VALIDATION'],
  ['node', 'a negative task id', gid('Task', -5), 'VALIDATION'],
  ['node', 'a huge task id', gid('Task', '99999999999999999999'), 'VALIDATION'],
  ['node', 'an unknown task', gid('Task', 987654321), 'NOT_FOUND'],
  ['node', 'a garbage TaskLog id', gid('TaskLog', 'abc'), 'VALIDATION'],
];
for (const [field, name, id, code] of idCases) {
  const query = field === 'task' ? TASK : field === 'node' ? NODE : field === 'cancelTask' ? CANCEL : RETRY;
  // task(id) answers null for a well-formed unknown id; these ids are not well formed.
  add(gql('ids', `${field}(id: ${name})`, { query, variables: { id }, expect: reject(code, field) }));
}
add(
  gql('ids', 'completeTask of an unknown task', {
    as: 'worker',
    query: COMPLETE,
    variables: { input: { taskId: '987654321', leaseToken: 'x' } },
    expect: reject('NOT_FOUND', 'completeTask'),
  }),
  gql('ids', 'completeTask with a garbage task id', {
    as: 'worker',
    query: COMPLETE,
    variables: { input: { taskId: 'DROP TABLE', leaseToken: 'x' } },
    expect: V('completeTask'),
  }),
  gql('ids', 'reportProgress with a made-up lease token', {
    as: 'worker',
    prepare: running,
    query: PROGRESS,
    variables: (p) => ({ input: { taskId: String(p.task.id), leaseToken: `${p.leaseToken}' OR '1'='1`, progress: 0.5 } }),
    expect: reject('LEASE_LOST', 'reportProgress'),
  }),
  gql('ids', 'heartbeat with a garbage lease task id', {
    as: 'worker',
    query: HEARTBEAT,
    variables: { input: { workerId: W1, leases: [{ taskId: 'zzz', leaseToken: 'x' }] } },
    expect: V('heartbeat'),
  }),
  gql('ids', 'dependsOn an unknown task', {
    as: 'producer',
    query: ENQUEUE,
    variables: { input: { type: 't', payload: {}, dependsOn: ['987654321'] } },
    expect: V('enqueueTask'),
  }),
  gql('ids', 'dependsOn a garbage id', {
    as: 'producer',
    query: ENQUEUE,
    variables: { input: { type: 't', payload: {}, dependsOn: [gid('Worker', 'w1')] } },
    expect: V('enqueueTask'),
  }),
  gql('ids', 'setScheduleEnabled on an unknown schedule', {
    query: 'mutation { setScheduleEnabled(name: "no-such-schedule", enabled: true) { name } }',
    expect: reject('NOT_FOUND', 'setScheduleEnabled'),
  }),
  gql('ids', 'tasks(after:) with a forged cursor', {
    as: 'viewer',
    query: 'query Q($after: String) { tasks(after: $after) { totalCount } }',
    variables: { after: Buffer.from(JSON.stringify(['1 OR 1=1'])).toString('base64url') },
    expect: V('tasks'),
  }),
  gql('ids', 'tasks(after:) with a garbage cursor', {
    as: 'viewer',
    query: 'query Q($after: String) { tasks(after: $after) { totalCount } }',
    variables: { after: "'; DROP TABLE tasks; --" },
    expect: V('tasks'),
  }),
  gql('ids', 'taskUpdated on an unknown task', {
    as: 'viewer',
    query: 'subscription S($id: ID!) { taskUpdated(id: $id) { id } }',
    variables: { id: '987654321' },
    expect: reject('NOT_FOUND', 'taskUpdated'),
  }),
  gql('ids', 'taskUpdated with a garbage id', {
    as: 'viewer',
    query: 'subscription S($id: ID!) { taskUpdated(id: $id) { id } }',
    variables: { id: 'garbage' },
    expect: V('taskUpdated'),
  }),
  gql('ids', 'taskLogAdded with a negative id', {
    as: 'viewer',
    query: 'subscription S($id: ID!) { taskLogAdded(taskId: $id) { id } }',
    variables: { id: '-3' },
    expect: V('taskLogAdded'),
  }),
  gql('ids', 'taskEvents after a garbage cursor', {
    as: 'viewer',
    query: 'subscription S($after: String) { taskEvents(after: $after) { cursor } }',
    variables: { after: '1 OR 1=1' },
    expect: V('taskEvents'),
  }),
  gql('ids', 'taskEvents after a negative cursor', {
    as: 'viewer',
    query: 'subscription S($after: String) { taskEvents(after: $after) { cursor } }',
    variables: { after: '-1' },
    expect: V('taskEvents'),
  }),
);

// ---- payloads that are not JSON objects

const notObjects: [string, unknown][] = [
  ['an array', [1, 2, 3]],
  ['a string', 'payload'],
  ['a number', 42],
  ['a boolean', true],
  ['null', null],
];
for (const [name, payload] of notObjects) {
  add(
    gql('not an object', `a task payload that is ${name}`, {
      as: 'producer',
      query: ENQUEUE,
      variables: { input: { type: 't', payload } },
      expect: V('enqueueTask'),
    }),
  );
}
add(
  gql('not an object', 'a task payload literal that is a list', {
    as: 'producer',
    query: 'mutation { enqueueTask(input: { type: "t", payload: [1, 2] }) { created } }',
    expect: V('enqueueTask'),
  }),
  gql('not an object', 'a task payload literal that is a string', {
    as: 'producer',
    query: 'mutation { enqueueTask(input: { type: "t", payload: "{}" }) { created } }',
    expect: V('enqueueTask'),
  }),
  gql('not an object', 'compatibility that is an array', {
    as: 'producer',
    query: ENQUEUE,
    variables: { input: { type: 't', payload: {}, compatibility: ['eu'] } },
    expect: V('enqueueTask'),
  }),
  gql('not an object', 'claim capabilities that are a string', {
    as: 'worker',
    query: CLAIM,
    variables: { input: { workerId: W1, capabilities: 'region=eu' } },
    expect: V('claimTasks'),
  }),
  gql('not an object', 'heartbeat capabilities that are a number', {
    as: 'worker',
    query: HEARTBEAT,
    variables: { input: { workerId: W1, capabilities: 7 } },
    expect: V('heartbeat'),
  }),
  gql('not an object', 'a schedule template payload that is an array', {
    query: UPSERT,
    variables: schedule({ intervalSeconds: 60, task: { type: 't', payload: [] } }),
    expect: V('upsertSchedule'),
  }),
);

// ---- NaN, Infinity, negative and out-of-range numbers

const progressCases: [string, string, Vars | null][] = [
  ['progress "NaN" (a string: JSON has no NaN)', PROGRESS, { progress: 'NaN' }],
  ['progress "Infinity" (a string)', PROGRESS, { progress: 'Infinity' }],
  ['progress 1e400 (Infinity once parsed)', PROGRESS, { progress: raw('1e400') }],
  ['progress -1e400 (-Infinity once parsed)', PROGRESS, { progress: raw('-1e400') }],
  ['progress -0.5', PROGRESS, { progress: -0.5 }],
  ['progress 1.5', PROGRESS, { progress: 1.5 }],
  ['progress -1e400 as a literal', 'mutation M($t: ID!, $l: String!) { reportProgress(input: { taskId: $t, leaseToken: $l, progress: -1e400 }) { id } }', null],
  ['progress 1e400 as a literal', 'mutation M($t: ID!, $l: String!) { reportProgress(input: { taskId: $t, leaseToken: $l, progress: 1e400 }) { id } }', null],
];
for (const [name, query, extra] of progressCases) {
  add(
    gql('numbers', name, {
      as: 'worker',
      prepare: running,
      query,
      variables: extra ? leaseVars(extra) : (p) => ({ t: String(p.task.id), l: p.leaseToken }),
      expect: V('reportProgress'),
    }),
  );
}
add(
  gql('numbers', 'progress NaN as a bare token (not JSON)', {
    as: 'worker',
    prepare: running,
    query: PROGRESS,
    variables: leaseVars({ progress: raw('NaN') }),
    expect: V('reportProgress'),
  }),
  gql('numbers', 'priority beyond 32 bits', { as: 'producer', query: ENQUEUE, variables: { input: { type: 't', payload: {}, priority: 2 ** 40 } }, expect: V('enqueueTask') }),
  gql('numbers', 'priority beyond 32 bits as a literal', {
    as: 'producer',
    query: 'mutation { enqueueTask(input: { type: "t", payload: {}, priority: 99999999999 }) { created } }',
    expect: V('enqueueTask'),
  }),
  gql('numbers', 'a negative delay', { as: 'producer', query: ENQUEUE, variables: { input: { type: 't', payload: {}, delaySeconds: -60 } }, expect: V('enqueueTask') }),
  gql('numbers', 'zero max attempts', { as: 'producer', query: ENQUEUE, variables: { input: { type: 't', payload: {}, maxAttempts: 0 } }, expect: V('enqueueTask') }),
  gql('numbers', 'a negative timeout', { as: 'producer', query: ENQUEUE, variables: { input: { type: 't', payload: {}, timeoutSeconds: -1 } }, expect: V('enqueueTask') }),
  gql('numbers', 'a negative claim limit', { as: 'worker', query: CLAIM, variables: { input: { workerId: W1, limit: -1 } }, expect: V('claimTasks') }),
  gql('numbers', 'a zero lease', { as: 'worker', query: CLAIM, variables: { input: { workerId: W1, leaseSeconds: 0 } }, expect: V('claimTasks') }),
  gql('numbers', 'a negative long-poll wait', { as: 'worker', query: CLAIM, variables: { input: { workerId: W1, waitSeconds: -5 } }, expect: V('claimTasks') }),
  gql('numbers', 'a negative heartbeat extension', {
    as: 'worker',
    prepare: running,
    query: HEARTBEAT,
    variables: (p) => ({ input: { workerId: W1, extendSeconds: -30, leases: [{ taskId: String(p.task.id), leaseToken: p.leaseToken }] } }),
    expect: V('heartbeat'),
  }),
  gql('numbers', 'a negative retry delay', {
    as: 'worker',
    prepare: running,
    query: FAIL,
    variables: leaseVars({ error: 'x', retryAfterSeconds: -10 }),
    expect: V('failTask'),
  }),
  gql('numbers', 'a negative concurrency limit', { query: LIMIT, variables: { input: { queue: 'q', limit: -1 } }, expect: V('setConcurrencyLimit') }),
  gql('numbers', 'a negative page size', { as: 'viewer', query: '{ tasks(first: -1) { totalCount } }', expect: V('tasks') }),
  gql('numbers', 'a zero schedule interval', { query: UPSERT, variables: schedule({ intervalSeconds: 0 }), expect: V('upsertSchedule') }),
);

// ---- strings that look like SQL: stored and matched as plain strings

add(
  gql('sql-looking strings', 'SQL as type, queue, idempotency key, correlation id and payload', {
    as: 'producer',
    query:
      'mutation M($input: EnqueueTaskInput!) { enqueueTask(input: $input) { created task { type queue idempotencyKey correlationId payload } } }',
    variables: { input: { type: SQL, queue: `${SQL} q`, idempotencyKey: `${SQL} key-1`, correlationId: SQL_OR, payload: { note: SQL } } },
    expect: {
      accept: async (o, fx) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        const r = o.data!.enqueueTask as { created: boolean; task: Record<string, unknown> };
        expect(r.created).toBe(true);
        expect(r.task).toEqual({ type: SQL, queue: `${SQL} q`, idempotencyKey: `${SQL} key-1`, correlationId: SQL_OR, payload: { note: SQL } });
        expect(await rows(fx, 'SELECT type, queue, correlation_id, payload FROM tasks WHERE idempotency_key = ?', `${SQL} key-1`)).toEqual([
          { type: SQL, queue: `${SQL} q`, correlation_id: SQL_OR, payload: JSON.stringify({ note: SQL }) },
        ]);
      },
      changes: { tasks: 1, task_events: 1 },
    },
  }),
  gql('sql-looking strings', 'SQL inside a GraphQL string literal', {
    as: 'producer',
    query: `mutation { enqueueTask(input: { type: "\\"); DROP TABLE tasks;--", queue: "${SQL_OR.replace(/'/g, "'")}", payload: { q: "1; DELETE FROM tasks" } }) { created task { type queue payload } } }`,
    expect: {
      accept: (o) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect((o.data!.enqueueTask as { task: unknown }).task).toEqual({ type: '"); DROP TABLE tasks;--', queue: SQL_OR, payload: { q: '1; DELETE FROM tasks' } });
      },
      changes: { tasks: 1, task_events: 1 },
    },
  }),
  gql('sql-looking strings', 'protocol words as data: a task of type "next" with "error" and "connection_ack" in its payload', {
    as: 'producer',
    query: 'mutation M($input: EnqueueTaskInput!) { enqueueTask(input: $input) { task { type payload } } }',
    variables: { input: { type: 'next', payload: { type: 'error', then: 'connection_ack' } } },
    expect: {
      accept: (o) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect((o.data!.enqueueTask as { task: unknown }).task).toEqual({ type: 'next', payload: { type: 'error', then: 'connection_ack' } });
      },
      changes: { tasks: 1, task_events: 1 },
    },
  }),
  gql('sql-looking strings', 'the same SQL idempotency key again returns the existing task', {
    as: 'producer',
    prepare: async (fx) => (await fx.store.enqueue({ type: 't', payload: {}, idempotencyKey: `${SQL_OR} again` })).task,
    query: 'mutation M($input: EnqueueTaskInput!) { enqueueTask(input: $input) { created task { idempotencyKey } } }',
    variables: { input: { type: 't', payload: {}, idempotencyKey: `${SQL_OR} again` } },
    expect: {
      accept: (o) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect(o.data!.enqueueTask).toEqual({ created: false, task: { idempotencyKey: `${SQL_OR} again` } });
      },
      changes: {},
    },
  }),
  gql('sql-looking strings', 'SQL in every filter value matches only the task that has those strings', {
    as: 'viewer',
    prepare: async (fx) =>
      (await fx.store.enqueue({ type: `${SQL} f`, queue: `${SQL} fq`, payload: {}, idempotencyKey: `${SQL} fk`, correlationId: `${SQL_OR} fc` })).task,
    query:
      'query Q($f: TaskFilter) { tasks(filter: $f) { totalCount edges { node { type } } } }',
    variables: { f: { type: [`${SQL} f`], queue: `${SQL} fq`, idempotencyKey: `${SQL} fk`, correlationId: `${SQL_OR} fc` } },
    expect: {
      accept: (o) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect(o.data!.tasks).toEqual({ totalCount: 1, edges: [{ node: { type: `${SQL} f` } }] });
      },
      changes: {},
    },
  }),
  gql('sql-looking strings', "a filter of ' OR '1'='1 matches nothing", {
    as: 'viewer',
    query: 'query Q($f: TaskFilter) { tasks(filter: $f) { totalCount edges { node { id } } } }',
    variables: { f: { type: [SQL_OR], queue: SQL_OR, region: [SQL_OR], format: [SQL_OR] } },
    expect: {
      accept: (o) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect(o.data!.tasks).toEqual({ totalCount: 0, edges: [] });
      },
      changes: {},
    },
  }),
  gql('sql-looking strings', 'queueStats of a SQL queue name', {
    as: 'viewer',
    query: 'query Q($q: String) { queueStats(queue: $q) { queue counts { count } } }',
    variables: { q: `${SQL_OR} --` },
    expect: {
      accept: (o) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        const s = o.data!.queueStats as { queue: string; counts: { count: number }[] };
        expect(s.queue).toBe(`${SQL_OR} --`);
        expect(s.counts.reduce((a, c) => a + c.count, 0)).toBe(0);
      },
      changes: {},
    },
  }),
  gql('sql-looking strings', 'worker(id:) of a SQL string', {
    as: 'viewer',
    query: 'query Q($id: ID!) { worker(id: $id) { id } }',
    variables: { id: `${SQL_OR}` },
    expect: {
      accept: (o) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect(o.data!.worker).toBeNull();
      },
      changes: {},
    },
  }),
  gql('sql-looking strings', 'a claim on a SQL queue takes only that queue\'s task', {
    as: 'worker',
    prepare: async (fx) => {
      await fx.store.heartbeat({ workerId: W1 }); // the worker exists, so the claim only moves the task
      return (await fx.store.enqueue({ type: 't', queue: `${SQL} cq ${fx.unique('')}`, payload: {} })).task;
    },
    query: CLAIM,
    variables: (t) => ({ input: { workerId: W1, queue: t.queue, types: [SQL_OR, 't'] } }),
    expect: {
      accept: (o, _fx, t) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        const claimed = o.data!.claimTasks as { task: { queue: string } }[];
        expect(claimed.map((c) => c.task.queue)).toEqual([t.queue]);
      },
      changes: { tasks: 0, task_events: 1, workers: 0 },
    },
  }),
  gql('sql-looking strings', 'a schedule named and typed with SQL', {
    query: UPSERT,
    variables: { input: { name: `${SQL} sched`, intervalSeconds: 3600, enabled: false, timezone: 'UTC', task: { type: SQL, queue: SQL_OR, payload: { s: SQL } } } },
    expect: {
      accept: async (o, fx) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect(o.data!.upsertSchedule).toEqual({ name: `${SQL} sched`, cron: null, timezone: 'UTC', taskType: SQL });
        expect(await rows(fx, 'SELECT name FROM schedules WHERE name = ?', `${SQL} sched`)).toHaveLength(1);
      },
      changes: { schedules: 1 },
    },
  }),
  gql('sql-looking strings', 'a concurrency limit on a SQL queue', {
    query: LIMIT,
    variables: { input: { queue: `${SQL} limited`, type: SQL_OR, limit: 2 } },
    expect: {
      accept: async (o, fx) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect(o.data!.setConcurrencyLimit).toEqual({ queue: `${SQL} limited`, limit: 2 });
        expect(await rows(fx, 'SELECT queue, type FROM concurrency_limits WHERE queue = ?', `${SQL} limited`)).toEqual([{ queue: `${SQL} limited`, type: SQL_OR }]);
      },
      changes: { concurrency_limits: 1 },
    },
  }),
  gql('sql-looking strings', 'a log message of SQL', {
    as: 'worker',
    prepare: running,
    query: LOG,
    variables: leaseVars({ level: 'WARN', message: SQL, details: { sql: SQL_OR } }),
    expect: {
      accept: async (o, fx, p) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect((o.data!.appendTaskLog as { message: string }).message).toBe(SQL);
        expect(await rows(fx, 'SELECT message, details FROM task_logs WHERE task_id = ?', p.task.id)).toEqual([{ message: SQL, details: JSON.stringify({ sql: SQL_OR }) }]);
      },
      changes: { task_logs: 1, task_events: 1 },
    },
  }),
  gql('sql-looking strings', 'taskEvents filtered by a SQL queue name', {
    as: 'viewer',
    prepare: async (fx) => (await fx.store.enqueue({ type: 't', queue: `${SQL} events`, payload: {} })).task,
    query: 'subscription S($q: String) { taskEvents(after: "0", filter: { queue: $q }) { kind task { queue } } }',
    variables: { q: `${SQL} events` },
    expect: {
      accept: (o) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect(o.data!.taskEvents).toEqual({ kind: 'ENQUEUED', task: { queue: `${SQL} events` } });
      },
      changes: {},
    },
  }),
);

// ---- invalid cron expressions and time zones

const scheduleCases: [string, Vars][] = [
  ['a cron that is prose', { cron: 'every five minutes' }],
  ['a cron with minute 61', { cron: '61 * * * *' }],
  ['a cron with 8 fields', { cron: '* * * * * * * *' }],
  ['a cron with month 13', { cron: '0 0 1 13 *' }],
  ['a cron of SQL', { cron: `'); DROP TABLE schedules;--` }],
  ['a cron of 10,000 characters', { cron: '*,'.repeat(5000) + '* * * * *' }],
  ['an empty cron', { cron: '' }],
  ['an unknown time zone', { cron: '* * * * *', timezone: 'Mars/Olympus_Mons' }],
  ['a time zone of SQL', { cron: '* * * * *', timezone: `UTC'; DROP TABLE schedules;--` }],
  ['a numeric UTC offset as a time zone', { cron: '* * * * *', timezone: '+99:00' }],
  ['both cron and interval', { cron: '* * * * *', intervalSeconds: 60 }],
  ['neither cron nor interval', {}],
  ['an empty name', { name: '', intervalSeconds: 60 }],
];
for (const [name, input] of scheduleCases) {
  add(gql('schedules', `upsertSchedule with ${name}`, { query: UPSERT, variables: schedule(input), expect: V('upsertSchedule') }));
}

// ---- WebSocket protocol abuse (ws only)

function initFrame(token: string | undefined): string {
  return JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} });
}
const ack = (messages: string[]) => messages.some((m) => m.includes('"connection_ack"'));

function frames(name: string, build: (fx: Fixture) => Frame[], opts: { protocol?: string | null; codes?: Code[]; closeCodes?: number[] } = {}): HostileCase {
  return {
    category: 'garbage frames',
    name,
    transports: ['ws'],
    run: (fx) => rawWs(fx, build(fx), { protocol: opts.protocol }),
    expect: { reject: opts.codes ?? ['VALIDATION'], closeCodes: opts.closeCodes },
  };
}

const SUB = (id: string): string => JSON.stringify({ id, type: 'subscribe', payload: { query: 'subscription { workerUpdated { id } }' } });

add(
  frames('binary junk before connection_init', () => [{ binary: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]) }]),
  frames('binary junk after connection_init', (fx) => [initFrame(fx.tokens.admin), { binary: Buffer.from([0x00, 0x01, 0x02, 0xff]) }]),
  frames('invalid JSON before connection_init', () => ['{"type": "connection_init"']),
  frames('invalid JSON after connection_init', (fx) => [initFrame(fx.tokens.admin), 'this is not JSON']),
  frames('an empty text frame', () => ['']),
  frames('a JSON null frame', () => ['null']),
  frames('a JSON array frame', () => ['[{"type":"connection_init"}]']),
  frames('a message without a type', (fx) => [initFrame(fx.tokens.admin), '{"id":"1","payload":{}}']),
  frames('an unknown message type', (fx) => [initFrame(fx.tokens.admin), '{"type":"drop_tables"}']),
  frames('a server-only message (next) from the client', (fx) => [initFrame(fx.tokens.admin), '{"id":"1","type":"next","payload":{"data":{}}}']),
  frames('a connection_init whose payload is a string', () => ['{"type":"connection_init","payload":"Bearer x"}']),
  frames('a subscribe before connection_init', () => [SUB('1')]),
  frames('a second connection_init', (fx) => [initFrame(fx.tokens.admin), initFrame(fx.tokens.admin)]),
  frames('a subscribe whose payload is a string', (fx) => [initFrame(fx.tokens.admin), '{"id":"1","type":"subscribe","payload":"{ workers { id } }"}']),
  frames('a subscribe without an id', (fx) => [initFrame(fx.tokens.admin), '{"type":"subscribe","payload":{"query":"{ workers { id } }"}}']),
  frames('a subscribe with a numeric id', (fx) => [initFrame(fx.tokens.admin), '{"id":1,"type":"subscribe","payload":{"query":"{ workers { id } }"}}']),
  frames('a subscribe id reused while the first is live', (fx) => [initFrame(fx.tokens.admin), SUB('dup'), SUB('dup')]),
  frames('a connection_init with a bogus token', () => [initFrame('tw_0123456789ab_' + 'C'.repeat(43))], { codes: ['UNAUTHENTICATED'] }),
  frames('a connection_init with a token that is a number', () => ['{"type":"connection_init","payload":{"authorization":12345}}'], { codes: ['UNAUTHENTICATED'] }),
  frames('no subprotocol at all', (fx) => [initFrame(fx.tokens.admin)], { protocol: null }),
);

add({
  category: 'garbage frames',
  name: 'the legacy subscriptions-transport-ws subprotocol',
  transports: ['ws'],
  run: (fx) => rawUpgrade(fx, 'graphql-ws'),
  expect: V(),
});

// ---- floods of subscriptions on one connection (ws only)

/** A graphql-ws client as `token`; returns the client and a way to open tracked subscriptions. */
function floodClient(fx: Fixture, token: string) {
  const client = createClient({
    url: fx.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  const errors: GqlError[] = [];
  let closeCode: number | undefined;
  client.on('closed', (e) => void (closeCode = (e as { code: number }).code));
  /** Opens a subscription; resolves 'live' at its first value or 'refused' at its error. */
  const open = (query: string) => {
    let unsubscribe = () => {};
    const state = new Promise<'live' | 'refused' | 'ended'>((resolve) => {
      unsubscribe = client.subscribe(
        { query },
        {
          next: () => resolve('live'),
          error: (e) => {
            if (Array.isArray(e)) errors.push(...(e as GqlError[]));
            resolve('refused');
          },
          complete: () => resolve('ended'),
        },
      );
    });
    return { state, unsubscribe: () => unsubscribe() };
  };
  return { client, open, errors, closed: () => closeCode };
}

const STATS = 'subscription { queueStatsUpdated { activeWorkers } }';

add({
  category: 'subscription flood',
  name: `300 subscriptions on one connection (cap ${SUB_CAP}): the extra ones are refused, the first stay live, a freed slot can be used again`,
  transports: ['ws'],
  run: async (fx) => {
    const f = floodClient(fx, fx.tokens.viewer);
    try {
      const subs = Array.from({ length: 300 }, () => f.open(STATS));
      const states = await withTimeout(Promise.all(subs.map((x) => x.state)), 10_000, 'every subscription to be live or refused');
      expect(states.filter((x) => x === 'live').length).toBe(SUB_CAP);
      expect(states.filter((x) => x === 'refused').length).toBe(300 - SUB_CAP);
      // Ending one live subscription frees its slot (the hook runs asynchronously: bounded retry).
      subs[states.indexOf('live')]!.unsubscribe();
      const refusedBefore = f.errors.length;
      let again: 'live' | 'refused' | 'ended' = 'refused';
      const deadline = Date.now() + 3000;
      while (again === 'refused' && Date.now() < deadline) {
        again = await withTimeout(f.open(STATS).state, 5000, 'a subscription after a slot was freed');
        if (again === 'refused') await new Promise((r) => setTimeout(r, 50));
      }
      expect(again, 'a slot freed by complete is usable again').toBe('live');
      // Past the cap again: refused.
      expect(await withTimeout(f.open(STATS).state, 5000, 'a subscription past the cap')).toBe('refused');
      expect(f.closed(), 'the connection stays open').toBeUndefined();
      expect(f.errors.length).toBeGreaterThan(refusedBefore);
      return { transport: 'ws', errors: f.errors, raw: JSON.stringify(f.errors) } satisfies Outcome;
    } finally {
      await f.client.dispose();
    }
  },
  expect: V(),
});
add({
  category: 'subscription flood',
  name: `${SUB_CAP * 6} queries one after another on one connection all run (finished operations free their slot)`,
  transports: ['ws'],
  run: async (fx) => {
    const f = floodClient(fx, fx.tokens.viewer);
    try {
      const results: string[] = [];
      for (let i = 0; i < SUB_CAP * 6; i++) {
        const r = await withTimeout(
          new Promise<string>((resolve) =>
            f.client.subscribe(
              { query: '{ workers { id } }' },
              { next: (v) => resolve(v.errors ? JSON.stringify(v.errors) : 'ok'), error: (e) => resolve(JSON.stringify(e)), complete: () => {} },
            ),
          ),
          5000,
          `query ${i + 1}`,
        );
        results.push(r);
      }
      return { transport: 'ws', errors: f.errors, raw: results.join('\n'), data: { results } } satisfies Outcome;
    } finally {
      await f.client.dispose();
    }
  },
  expect: {
    accept: (o) => {
      expect((o.data!.results as string[]).filter((r) => r !== 'ok')).toEqual([]);
    },
    changes: {},
  },
});
add({
  category: 'subscription flood',
  name: 'a flood on one connection does not affect another connection',
  transports: ['ws'],
  run: async (fx) => {
    const f = floodClient(fx, fx.tokens.viewer);
    try {
      const states = await withTimeout(Promise.all(Array.from({ length: 50 }, () => f.open(STATS).state)), 10_000, 'the flood to settle');
      expect(states.filter((x) => x === 'refused').length).toBe(50 - SUB_CAP);
      const other = await call(fx, 'ws', { query: STATS, token: fx.tokens.viewer });
      expect(other.errors, describeOutcome(other)).toEqual([]);
      expect(other.data?.queueStatsUpdated).toBeTruthy();
      return { transport: 'ws', errors: f.errors, raw: JSON.stringify(f.errors) } satisfies Outcome;
    } finally {
      await f.client.dispose();
    }
  },
  expect: V(),
});

// ---- every operation without a token, and with each role that may not call it

for (const op of OPS) {
  for (const who of ['none', 'bogus'] as const) {
    add({
      category: 'no token',
      name: `${op.kind} ${op.field} with ${who === 'none' ? 'no token' : 'an unknown token'}`,
      transports: transportsFor(op),
      prepare: (fx) => op.prepare(fx),
      run: (fx, transport, p) => call(fx, transport, { query: op.document, variables: p.variables, token: tokenFor(fx, who) }),
      expect: reject('UNAUTHENTICATED', op.field),
    });
  }
}
for (const { op, role } of deniedPairs()) {
  add({
    category: 'forbidden role',
    name: `${op.kind} ${op.field} as ${role}`,
    transports: transportsFor(op),
    prepare: (fx) => op.prepare(fx),
    run: (fx, transport, p) => call(fx, transport, { query: op.document, variables: p.variables, token: fx.tokens[ACTS_AS[role]] }),
    expect: reject('FORBIDDEN', op.field),
  });
}

// ---- per-object rules: another producer's task, another worker's id or lease

add(
  gql('not yours', "cancelTask of another producer's task", {
    as: 'producer2',
    prepare: (fx) => fx.queuedTask('producer'),
    query: CANCEL,
    variables: (t) => ({ id: String(t.id) }),
    expect: reject('FORBIDDEN', 'cancelTask'),
  }),
  gql('not yours', "updateTask of another producer's task", {
    as: 'producer2',
    prepare: (fx) => fx.queuedTask('producer'),
    query: 'mutation M($id: ID!) { updateTask(id: $id, input: { priority: 1 }) { id } }',
    variables: (t) => ({ id: String(t.id) }),
    expect: reject('FORBIDDEN', 'updateTask'),
  }),
  gql('not yours', 'claimTasks as another worker id', {
    as: 'worker',
    prepare: (fx) => fx.queuedTask(),
    query: CLAIM,
    variables: (t) => ({ input: { workerId: W2, queue: t.queue } }),
    expect: reject('FORBIDDEN', 'claimTasks'),
  }),
  gql('not yours', 'heartbeat as another worker id', {
    as: 'worker',
    query: HEARTBEAT,
    variables: { input: { workerId: `${SQL_OR}` } },
    expect: reject('FORBIDDEN', 'heartbeat'),
  }),
  gql('not yours', 'appendTaskLog without a lease, as a worker', {
    as: 'worker',
    prepare: running,
    query: LOG,
    variables: (p) => ({ input: { taskId: String(p.task.id), level: 'INFO', message: 'no lease' } }),
    expect: reject('FORBIDDEN', 'appendTaskLog'),
  }),
);
const foreignLease: [string, string, Vars][] = [
  ['reportProgress', PROGRESS, { progress: 0.9 }],
  ['completeTask', COMPLETE, { result: { stolen: true } }],
  ['failTask', FAIL, { error: 'sabotage', retryable: false }],
  ['appendTaskLog', LOG, { level: 'ERROR', message: 'not mine' }],
];
for (const [field, query, extra] of foreignLease) {
  add(
    gql('not yours', `${field} on another worker's lease`, {
      as: 'worker2',
      prepare: running,
      query,
      variables: leaseVars(extra),
      expect: reject(['FORBIDDEN', 'LEASE_LOST'], field),
    }),
  );
}
add(
  gql('not yours', "completeTasks with another worker's lease among its own", {
    as: 'worker2',
    prepare: async (fx) => [await fx.runningTask(W2), await fx.runningTask(W1)],
    query: COMPLETE_MANY,
    variables: (p) => ({ inputs: p.map((x: { task: { id: number }; leaseToken: string }) => ({ taskId: String(x.task.id), leaseToken: x.leaseToken })) }),
    expect: reject(['FORBIDDEN', 'LEASE_LOST'], 'completeTasks'),
  }),
  gql('not yours', "failTasks with another worker's lease among its own", {
    as: 'worker2',
    prepare: async (fx) => [await fx.runningTask(W2), await fx.runningTask(W1)],
    query: FAIL_MANY,
    variables: (p) => ({
      inputs: p.map((x: { task: { id: number }; leaseToken: string }) => ({ taskId: String(x.task.id), leaseToken: x.leaseToken, error: 'x' })),
    }),
    expect: reject(['FORBIDDEN', 'LEASE_LOST'], 'failTasks'),
  }),
  gql('not yours', "releaseTasks with another worker's lease among its own gives back only its own", {
    as: 'worker2',
    prepare: async (fx) => [await fx.runningTask(W2), await fx.runningTask(W1)],
    query: RELEASE,
    variables: (p) => ({ inputs: p.map((x: { task: { id: number }; leaseToken: string }) => ({ taskId: String(x.task.id), leaseToken: x.leaseToken })) }),
    expect: {
      accept: async (o, fx, p) => {
        expect(o.errors, describeOutcome(o)).toEqual([]);
        expect((o.data!.releaseTasks as { status: string }[]).map((t) => t.status)).toEqual(['QUEUED']);
        expect(await rows(fx, 'SELECT status FROM tasks WHERE id = ?', p[1].task.id)).toEqual([{ status: 'RUNNING' }]);
      },
      changes: { tasks: 0, task_events: 1 },
    },
  }),
);

// ---------------------------------------------------------------- the runner

export function casesFor(transport: Transport): HostileCase[] {
  return CASES.filter((c) => c.transports.includes(transport));
}

/**
 * How many cases each transport tries. Kept by hand on purpose: a case that drops out of
 * the table (or a transport filter that goes wrong) fails the count test.
 */
export const EXPECTED_CASES: Record<Transport, number> = { http: 303, ws: 320, sse: 318 };

/** Declares one vitest test per case for `transport`, plus the count test. */
export function defineHostileSuite(transport: Transport): void {
  const cases = casesFor(transport);
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture(HOSTILE_APP);
  });
  afterAll(() => fx?.stop());

  for (const c of cases) {
    it(`[${c.category}] ${c.name}`, async () => {
      const prepared = c.prepare ? await c.prepare(fx) : undefined;
      const before = await snapshot(fx);
      const outcome = await c.run(fx, transport, prepared);
      expectNoLeak(outcome);
      if ('reject' in c.expect) {
        expectRefused(outcome, { codes: c.expect.reject, field: c.expect.field, closeCodes: c.expect.closeCodes });
      } else {
        expect(outcome.timedOut, describeOutcome(outcome)).toBeFalsy();
        if (outcome.status !== undefined) expect(outcome.status, describeOutcome(outcome)).toBe(200);
        await c.expect.accept(outcome, fx, prepared);
      }
      const after = await snapshot(fx);
      const changes: Partial<Record<Table, number>> = 'changes' in c.expect ? c.expect.changes : {};
      for (const t of TABLES) {
        const allowed = changes[t];
        if (allowed === undefined) {
          expect(after.digests[t], `${t} changed (rows ${before.counts[t]} -> ${after.counts[t]}): ${describeOutcome(outcome)}`).toBe(before.digests[t]);
        } else {
          expect(after.counts[t] - before.counts[t], `rows added to ${t}`).toBe(allowed);
        }
      }
      expect(await healthStatus(fx), 'GET /health after the case').toBe(200);
      expect(await fx.store.maintenance.integrityCheck()).toEqual(['ok']);
    });
  }

  it(`tries ${EXPECTED_CASES[transport]} cases over ${transport}`, () => {
    const byCategory: Record<string, number> = {};
    for (const c of cases) byCategory[c.category] = (byCategory[c.category] ?? 0) + 1;
    console.log(`hostile-${transport}: ${cases.length} cases ${JSON.stringify(byCategory)}`);
    expect(cases.length).toBe(EXPECTED_CASES[transport]);
  });
}
