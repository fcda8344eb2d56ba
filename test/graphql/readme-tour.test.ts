/**
 * The README's one-minute tour, run as written against a fresh server: its `curl`
 * commands through bash (with the server's port for 4000, and the placeholders filled in
 * from the answers before them, as a reader would), and its subscription over graphql-ws.
 * It must show what the README says it shows: the task enqueued, claimed, completed, and
 * the subscription seeing ENQUEUED, CLAIMED and SUCCEEDED in that order.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApp, stopApps, waitFor, wsClient, type TestApp } from '../helpers/app.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The tour's section, and its fenced blocks by language, in order. */
function tourBlocks(): { lang: string; text: string }[] {
  const start = README.indexOf('## A one-minute tour');
  const end = README.indexOf('\n## ', start + 1);
  expect(start, 'the README has a "A one-minute tour" section').toBeGreaterThan(-1);
  const section = README.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

/** A shell block's commands: each starts with `curl` and runs until the next one. */
function curlCommands(block: string): string[] {
  return block
    .split(/\n(?=curl )/)
    .map((c) => c.trim())
    .filter((c) => c.startsWith('curl '));
}

let t: TestApp;
let port: number;
let wsUrl: string;

beforeAll(async () => {
  t = await makeApp();
  ({ port, wsUrl } = await t.listen());
});
afterAll(() => stopApps());

/** Runs one command in bash (asynchronously: the server answers on this process's event loop). */
async function runCurl(command: string, fill: Record<string, string> = {}): Promise<any> {
  let text = command.replaceAll('localhost:4000', `127.0.0.1:${port}`);
  for (const [placeholder, value] of Object.entries(fill)) text = text.replaceAll(placeholder, value);
  expect(text, 'every placeholder was filled in').not.toMatch(/<[a-z ]+>/);
  const { stdout: out } = await promisify(execFile)('bash', ['-c', text], { encoding: 'utf8', timeout: 30_000 });
  const body = JSON.parse(out);
  expect(body.errors, `${text}\n-> ${out}`).toBeUndefined();
  return body.data;
}

describe("the README's one-minute tour", () => {
  it('runs as written and shows what it says', async () => {
    const blocks = tourBlocks();
    const shell = blocks.filter((b) => b.lang === 'sh').flatMap((b) => curlCommands(b.text));
    const subscriptions = blocks.filter((b) => b.lang === 'graphql').map((b) => b.text);
    expect(shell.length, 'enqueue, claim and complete').toBe(3);
    expect(subscriptions.length).toBe(1);
    const [enqueue, claim, complete] = shell as [string, string, string];

    // "Watch it in GraphiQL with a subscription" first, as the reader has it open.
    const kinds: { kind: string; id: string }[] = [];
    const listeners = t.store.bus.listenerCount;
    wsClient(wsUrl).subscribe(
      { query: subscriptions[0]! },
      { next: (r) => void kinds.push({ kind: (r.data as any).taskEvents.kind, id: (r.data as any).taskEvents.task.id }), error: () => {}, complete: () => {} },
    );
    // The subscription is live a moment after it is sent; the bus tells when it listens.
    await waitFor(() => t.store.bus.listenerCount > listeners, 'the subscription to listen');

    const enqueued = await runCurl(enqueue);
    expect(enqueued.enqueueTask).toMatchObject({ created: true, task: { status: 'QUEUED' } });
    const id: string = enqueued.enqueueTask.task.id;

    const claimed = await runCurl(claim);
    expect(claimed.claimTasks).toHaveLength(1);
    expect(claimed.claimTasks[0].task).toMatchObject({ id, type: 'thumbnail', payload: { url: 'a.png', format: 'png' } });

    const completed = await runCurl(complete, { '<task id>': id, '<lease token>': claimed.claimTasks[0].leaseToken });
    expect(completed.completeTask).toEqual({ status: 'SUCCEEDED' });

    // "The subscription shows ENQUEUED, CLAIMED and SUCCEEDED as they happen."
    await waitFor(() => kinds.some((k) => k.kind === 'SUCCEEDED'), 'the SUCCEEDED event');
    expect(kinds.filter((k) => k.id === id).map((k) => k.kind)).toEqual(['ENQUEUED', 'CLAIMED', 'SUCCEEDED']);
  });
});
