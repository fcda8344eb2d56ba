/**
 * The server around the schema: /health, GraphiQL served offline with a ready example, the request body limit,
 * and a graceful stop (WebSockets closed with 1001, no new requests accepted).
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, validate } from 'graphql';
import { GRAPHIQL_EXAMPLE } from '../../src/graphql/graphiql-example.js';
import { schema } from '../../src/graphql/schema.js';
import { collect, makeApp, stopApps, waitFor, wsClient } from '../helpers/app.js';

afterEach(stopApps);

describe('/health', () => {
  it('reports ok, the back end, the schema version and the applied settings', async () => {
    const t = await makeApp();
    const { base } = await t.listen();
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = await res.json();
    // What each back end reads back once open: SQLite its PRAGMAs, PostgreSQL the URL's
    // settings and the server's version.
    const url = new URL(t.location, 'file:');
    const settings =
      t.driver === 'sqlite'
        ? { journal_mode: 'wal', synchronous: 'NORMAL', foreign_keys: 1, busy_timeout: 5000, temp_store: 'MEMORY', page_size: 4096 }
        : {
            schema: url.searchParams.get('schema'),
            pool_size: Number(url.searchParams.get('pool')),
            statement_timeout_ms: 30_000,
            idle_in_transaction_timeout_ms: 60_000,
            server_version: expect.stringMatching(/^\d+(\.\d+)*/),
          };
    expect(body).toMatchObject({
      status: 'ok',
      backend: t.driver,
      database: t.store.info.location,
      schemaVersion: t.store.info.latestSchemaVersion,
      settings,
    });
    expect(t.store.info.latestSchemaVersion).toBeGreaterThanOrEqual(1);
  });
});

describe('GraphiQL', () => {
  it('is served at /graphql to browsers, with no script or style from the network', async () => {
    const t = await makeApp();
    const res = await t.app.yoga.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/graphiql/i);
    expect(html).toContain('Taskwire');
    // External resources would be <script src>, <link href>, CSS @import / url(), or a dynamic import().
    const tags = [...html.matchAll(/<(script|link|img|iframe)\b[^>]*>/gi)].map((m) => m[0]);
    for (const tag of tags) expect(tag, tag.slice(0, 200)).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/@import\s+(url\()?["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?https?:\/\//i);
    expect(html).not.toMatch(/import\(\s*["'`]https?:\/\//i);
    expect(html).not.toMatch(/\bfrom\s*["'`]https?:\/\//i);
    for (const cdn of ['unpkg.com', 'jsdelivr.net', 'esm.sh', 'cdnjs.cloudflare.com', 'fonts.googleapis.com', 'skypack.dev']) {
      expect(html, cdn).not.toContain(cdn);
    }
  });

  it('opens with a ready example (a taskEvents subscription and an enqueue) that validates and runs', async () => {
    const t = await makeApp();
    const html = await (await t.app.yoga.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } })).text();
    // The page carries the example as its default query (JSON-escaped in its config).
    expect(html).toContain(JSON.stringify(GRAPHIQL_EXAMPLE).slice(1, -1));
    expect(validate(schema, parse(GRAPHIQL_EXAMPLE))).toEqual([]);

    // Run as the comment says: WatchEvents first, then EnqueueThumbnail.
    const { url, wsUrl } = await t.listen();
    const seen: { kind: string; task: { id: string; type: string; status: string } }[] = [];
    wsClient(wsUrl).subscribe(
      { query: GRAPHIQL_EXAMPLE, operationName: 'WatchEvents' },
      { next: (r) => void seen.push((r.data as { taskEvents: (typeof seen)[number] }).taskEvents), error: () => {}, complete: () => {} },
    );
    // The subscription starts listening a moment after it is sent: enqueue until it sees one.
    const enqueued: string[] = [];
    const event = await waitFor(async () => {
      const found = seen.find((e) => e.kind === 'ENQUEUED' && enqueued.includes(e.task.id));
      if (found) return found;
      const run = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: GRAPHIQL_EXAMPLE, operationName: 'EnqueueThumbnail' }),
      });
      const body = (await run.json()) as { data: { enqueueTask: { created: boolean; task: { id: string; status: string } } } };
      expect(body.data.enqueueTask).toMatchObject({ created: true, task: { status: 'QUEUED' } });
      enqueued.push(body.data.enqueueTask.task.id);
      await new Promise((r) => setTimeout(r, 50));
      return undefined;
    }, 'the ENQUEUED event of an enqueued task');
    expect(event.task).toMatchObject({ type: 'thumbnail', status: 'QUEUED', progress: null });
  });

  it('is not served to API clients (they get GraphQL)', async () => {
    const t = await makeApp();
    const res = await t.app.yoga.fetch('http://localhost/graphql?query=%7B__typename%7D', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('request body limit', () => {
  it('refuses a body larger than maxBodyBytes, declared up front', async () => {
    const t = await makeApp({ maxBodyBytes: 2048 });
    const { url } = await t.listen();
    const query = `mutation($p: JSON!) { enqueueTask(input: { type: "x", payload: $p }) { task { id } } }`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables: { p: { blob: 'x'.repeat(4096) } } }),
    });
    expect(res.status).toBe(413);
    const body = await res.json();
    expect(body.errors[0].extensions.code).toBe('VALIDATION');
    expect(await t.store.lastEventId()).toBe(0);
    // A body under the limit goes through.
    const ok = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables: { p: { blob: 'x' } } }),
    });
    expect(ok.status).toBe(200);
  });

  it('refuses a chunked body once it grows past maxBodyBytes', async () => {
    const t = await makeApp({ maxBodyBytes: 2048 });
    const { port } = await t.listen();
    const query = `mutation($p: JSON!) { enqueueTask(input: { type: "x", payload: $p }) { task { id } } }`;
    const text = JSON.stringify({ query, variables: { p: { blob: 'x'.repeat(8192) } } });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < text.length; i += 1000) req.write(text.slice(i, i + 1000));
      req.end();
    });
    expect(status).toBe(413);
    const count = await t.ok(`{ tasks { totalCount } }`);
    expect(count.tasks.totalCount).toBe(0);
  });
});

describe('graceful stop', () => {
  it('closes open WebSockets with 1001 and stops accepting requests', async () => {
    const t = await makeApp();
    const { url, wsUrl } = await t.listen();
    const closes: number[] = [];
    const base = t.store.bus.listenerCount;
    const client = wsClient(wsUrl, { on: { closed: (e) => void closes.push((e as { code: number }).code) } });
    const sub = collect(client, `subscription { taskEvents { cursor } }`);
    await waitFor(() => t.store.bus.listenerCount > base, 'the subscription to go live');
    await t.app.stop();
    await waitFor(() => closes.length > 0, 'the client to see the socket close');
    expect(closes[0]).toBe(1001);
    expect(sub.errors.length + (sub.completed ? 1 : 0)).toBeGreaterThan(0);
    await expect(fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{__typename}"}' })).rejects.toThrow();
  });

  it('lets a request in flight finish', async () => {
    const t = await makeApp();
    const { url } = await t.listen();
    // A long-poll is the easiest request to hold in flight; stop ends it with [] (a normal answer).
    const pending = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation { claimTasks(input: { workerId: "w", waitSeconds: 20 }) { leaseToken } }` }),
    });
    await waitFor(async () => (await t.store.getWorker('w')) !== null, 'the long-poll to be waiting');
    await t.app.stop();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { claimTasks: [] } });
  });
});
