/**
 * GraphQL over HTTP, exactly as yoga serves it. The server answers JSON POSTs on a fast
 * path of its own (src/graphql/http.ts); every request in the list below goes both to the
 * server over a real socket and to yoga's own fetch handler for the same app, and the two
 * answers must be the same: status, headers (but for the transport's: date, connection,
 * keep-alive, the request id) and body. Each case runs with every Accept header of the
 * list, including none.
 *
 * Each case also says which path the server must take: `fast` cases (valid operations and
 * their execution errors) are answered by the fast path itself; the rest are handed to
 * yoga, and the test reads the fast path's count of hand-overs, so a fast path that gave every request to
 * yoga (trivially the same answers, and slow) fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastPathCounters } from '../../src/graphql/http.js';
import { makeApp, stopApps, type TestApp } from '../helpers/app.js';

interface Case {
  name: string;
  /** Served by the fast path (true) or handed to yoga (false). */
  fast: boolean;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

const json = (v: unknown) => JSON.stringify(v);
const BY_ID = 'query($id: ID!) { task(id: $id) { id } }';

const CASES: Case[] = [
  // Valid operations, with and without results that carry errors.
  { name: 'a valid query', fast: true, body: json({ query: '{ __typename }' }) },
  { name: 'a valid query with null variables, operationName and extensions', fast: true, body: json({ query: '{ __typename }', variables: null, operationName: null, extensions: null }) },
  { name: 'a named operation picked by operationName', fast: true, body: json({ query: 'query A { __typename } query B { queueStats { queue } }', operationName: 'B' }) },
  { name: 'a mutation', fast: true, body: json({ query: 'mutation { enqueueTask(input: {type: "conformance", payload: {}}) { created } }' }) },
  { name: 'an execution error (task not found)', fast: true, body: json({ query: 'mutation { cancelTask(id: "999999") { id } }' }) },
  { name: 'a null result for a missing task', fast: true, body: json({ query: BY_ID, variables: { id: '999999' } }) },
  { name: 'a variable of the wrong type (coercion failure)', fast: true, body: json({ query: BY_ID, variables: { id: { a: 1 } } }) },
  { name: 'a required variable missing', fast: true, body: json({ query: BY_ID }) },
  { name: 'an Int variable out of range', fast: true, body: json({ query: 'query($n: Int) { tasks(first: $n) { edges { cursor } } }', variables: { n: 1e20 } }) },
  { name: 'extensions as an object', fast: true, body: json({ query: '{ __typename }', extensions: { persistedQuery: null } }) },
  { name: 'a cross-origin request (CORS headers)', fast: true, headers: { origin: 'http://frontend.test' }, body: json({ query: '{ __typename }' }) },
  { name: 'a cross-origin request with an execution error', fast: true, headers: { origin: 'http://frontend.test' }, body: json({ query: 'mutation { cancelTask(id: "999999") { id } }' }) },
  { name: 'content-type with a charset', fast: true, headers: { 'content-type': 'application/json; charset=utf-8' }, body: json({ query: '{ __typename }' }) },
  // The document itself.
  { name: 'a document that does not parse', fast: false, body: json({ query: '{ task(' }) },
  { name: 'an empty document', fast: false, body: json({ query: '' }) },
  { name: 'a document that does not validate (unknown field)', fast: false, body: json({ query: '{ nope }' }) },
  { name: 'a validation error with CORS', fast: false, headers: { origin: 'http://frontend.test' }, body: json({ query: '{ nope }' }) },
  { name: 'too deep for the depth limit', fast: false, body: json({ query: `{ tasks { edges { node { ${'dependents { edges { node { '.repeat(4)}id${' } } }'.repeat(4)} } } } }` }) },
  { name: 'an unknown operationName', fast: false, body: json({ query: 'query A { __typename }', operationName: 'B' }) },
  { name: 'several operations and no operationName', fast: false, body: json({ query: 'query A { __typename } query B { __typename }' }) },
  { name: 'a subscription over a plain POST', fast: false, body: json({ query: 'subscription { taskEvents { cursor } }' }) },
  // The request's parameters.
  { name: 'a body that is not JSON', fast: false, body: '{nope' },
  { name: 'a JSON array (batching)', fast: false, body: '[{"query":"{ __typename }"}]' },
  { name: 'JSON null', fast: false, body: 'null' },
  { name: 'a JSON number', fast: false, body: '42' },
  { name: 'no query', fast: false, body: '{}' },
  { name: 'query as a number', fast: false, body: json({ query: 1 }) },
  { name: 'variables as a string', fast: false, body: json({ query: '{ __typename }', variables: '{}' }) },
  { name: 'variables as an array', fast: false, body: json({ query: '{ __typename }', variables: [1] }) },
  { name: 'operationName as a number', fast: false, body: json({ query: '{ __typename }', operationName: 3 }) },
  { name: 'extensions as a string', fast: false, body: json({ query: '{ __typename }', extensions: 'x' }) },
  { name: 'extensions as an array', fast: false, body: json({ query: '{ __typename }', extensions: [] }) },
  { name: 'an unexpected parameter', fast: false, body: json({ query: '{ __typename }', queryId: 'abc' }) },
  // Methods and content types (none of these reach the fast path).
  { name: 'PUT', fast: false, method: 'PUT', body: json({ query: '{ __typename }' }) },
  { name: 'PATCH', fast: false, method: 'PATCH', body: json({ query: '{ __typename }' }) },
  { name: 'DELETE', fast: false, method: 'DELETE' },
  { name: 'GET with a query', fast: false, method: 'GET', path: '/graphql?query=%7B__typename%7D' },
  { name: 'GET with a mutation', fast: false, method: 'GET', path: '/graphql?query=mutation%7BenqueueTask(input%3A%7Btype%3A%22x%22%7D)%7Bcreated%7D%7D' },
  { name: 'content-type text/plain', fast: false, headers: { 'content-type': 'text/plain' }, body: json({ query: '{ __typename }' }) },
  { name: 'content-type application/jsonx', fast: false, headers: { 'content-type': 'application/jsonx' }, body: json({ query: '{ __typename }' }) },
  { name: 'no content-type', fast: false, headers: { 'content-type': '' }, body: json({ query: '{ __typename }' }) },
  { name: 'content-type application/graphql', fast: false, headers: { 'content-type': 'application/graphql' }, body: '{ __typename }' },
  { name: 'a url-encoded form', fast: false, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=%7B__typename%7D' },
];

/** Accept headers clients send; `fastAccept` says whether a fast case stays on the fast path with it. */
const ACCEPTS: { accept: string | undefined; fastAccept: boolean }[] = [
  { accept: 'application/json', fastAccept: true },
  { accept: 'application/graphql-response+json', fastAccept: true },
  { accept: undefined, fastAccept: true },
  { accept: '*/*', fastAccept: true },
  // What graphql-http and many clients send; yoga ignores the q-value.
  { accept: 'application/graphql-response+json, application/json;q=0.9', fastAccept: true },
  { accept: 'application/json; charset=utf-8', fastAccept: true },
  // No JSON answer: yoga says 406.
  { accept: 'text/html', fastAccept: false },
  { accept: 'application/json; charset=latin1', fastAccept: false },
];

const TRANSPORT_HEADERS = new Set(['date', 'connection', 'keep-alive', 'x-request-id', 'transfer-encoding']);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function answerOf(response: Response): Promise<Answer> {
  const headers = Object.fromEntries(
    [...response.headers].map(([k, v]) => [k.toLowerCase(), v] as const).filter(([k]) => !TRANSPORT_HEADERS.has(k)).sort(([a], [b]) => a.localeCompare(b)),
  );
  let body: string;
  if ((headers['content-type'] ?? '').startsWith('text/event-stream')) {
    // A stream (a subscription yoga serves as SSE): its first chunk, then hang up.
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    body = `(stream) ${new TextDecoder().decode(value)}`;
  } else {
    body = await response.text();
  }
  return { status: response.status, headers, body };
}

let t: TestApp;
let url: string;

beforeAll(async () => {
  t = await makeApp();
  ({ url } = await t.listen());
  // graphql-jit compiles a document on its fifth run: warm the valid cases so that both
  // the compiled and the interpreted answers are compared below.
  for (let i = 0; i < 6; i++) {
    for (const c of CASES.filter((c) => c.fast)) await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: c.body });
  }
});

afterAll(() => stopApps());

describe('the JSON fast path answers as yoga does', () => {
  for (const { accept, fastAccept } of ACCEPTS) {
    describe(`Accept: ${accept ?? '(none)'}`, () => {
      for (const c of CASES) {
        it(c.name, async () => {
          const headers: Record<string, string> = { 'content-type': 'application/json', ...(accept === undefined ? {} : { accept }), ...c.headers };
          if (headers['content-type'] === '') delete headers['content-type'];
          const init: RequestInit = { method: c.method ?? 'POST', headers, body: c.body };
          const path = c.path ?? '/graphql';

          const before = fastPathCounters.handedToYoga;
          const server = await answerOf(await fetch(new URL(path, url), init));
          const viaFastPath = fastPathCounters.handedToYoga === before;
          const yoga = await answerOf(await t.app.yoga.fetch(`http://localhost${path}`, init));

          expect(server).toEqual(yoga);
          // Requests yoga's node handler serves directly never reach the fast path at all.
          const reachesFastPath = (c.method ?? 'POST') === 'POST' && /^application\/json(;|$)/.test(headers['content-type'] ?? '');
          if (reachesFastPath) expect(viaFastPath, viaFastPath ? 'served by the fast path' : 'handed to yoga').toBe(c.fast && fastAccept);
        });
      }
    });
  }

  it('the answers differ where the Accept header says they should (the comparison has teeth)', async () => {
    const post = (accept: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: json({ query: '{ task(' }) });
    const legacy = await post('application/json');
    const spec = await post('application/graphql-response+json');
    // GraphQL over HTTP: a parse failure is 200 for application/json, 400 for the new type.
    expect([legacy.status, legacy.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
    expect([spec.status, spec.headers.get('content-type')]).toEqual([400, 'application/graphql-response+json; charset=utf-8']);
    const unsupported = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(unsupported.status).toBe(415);
    expect(((await unsupported.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('VALIDATION');
  });
});
