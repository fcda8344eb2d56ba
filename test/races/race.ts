/**
 * Shared by the race suite: two stores on ONE database (each with its own connection and
 * its own bus), opened through the driver helper, a race that starts both operations
 * before awaiting either, and the outbox, which counts events across both stores.
 *
 * On SQLite the writers are serialized by BEGIN IMMEDIATE, so a race is decided by which
 * whole transaction commits first; `race` varies from one round to the next which
 * operation starts first and how closely the other follows, so that every order is
 * taken. On PostgreSQL the same suite exercises true concurrency.
 */
import { expect } from 'vitest';
import type { StoredEvent, TaskEventKind, TaskStore } from '../../src/store/index.js';
import { Clock, makeDatabase, type StoreOptions, type TestStore } from '../helpers/drivers.js';

/** Rounds per race, each on fresh tasks. */
export const ROUNDS = 30;

export interface Pair {
  a: TestStore;
  b: TestStore;
  clock: Clock;
}

/** Two stores on one new database, sharing the clock. */
export async function twoStores(options: StoreOptions = {}): Promise<Pair> {
  const database = await makeDatabase();
  const clock = options.clock ?? new Clock();
  const a = await database.open({ ...options, clock, seed: 1 });
  const b = await database.open({ ...options, clock, seed: 2 });
  return { a, b, clock };
}

/**
 * Runs `round` ROUNDS times (each on fresh tasks) on two new stores on one database,
 * then checks that both buses agree with the outbox; returns the pair for final checks.
 */
export async function inRounds(options: StoreOptions, round: (pair: Pair, round: number) => Promise<void>): Promise<Pair> {
  const pair = await twoStores(options);
  for (let r = 0; r < ROUNDS; r++) await round(pair, r);
  await expectBusesAgree(pair);
  return pair;
}

/** Calls `op`; a synchronous throw becomes a rejection, as if it had been async. */
function start<T>(op: () => Promise<T>): Promise<T> {
  try {
    return op();
  } catch (e) {
    return Promise.reject(e);
  }
}

/** One turn of the event loop. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Two milliseconds: long enough for a PostgreSQL transaction to take its first lock. */
const shortly = () => new Promise<void>((resolve) => setTimeout(resolve, 2));

/**
 * Starts both operations before awaiting either, and waits until both have settled. The
 * round picks which starts first (even rounds: left), and how closely the second follows
 * (rounds cycle through all three with either side first): in the same turn of the event
 * loop, in the next turn, or 2 ms later. On SQLite a request's write commits in the next
 * turn (group commit) while a background write (sweep, schedules) commits at once, so only
 * a staggered start lets the request's write win against a sweep. On PostgreSQL both are
 * in flight together, and the 2 ms start lets the first one's locks be taken before the
 * second begins, which the same start alone leaves to chance.
 */
export async function race<L, R>(round: number, left: () => Promise<L>, right: () => Promise<R>): Promise<[PromiseSettledResult<L>, PromiseSettledResult<R>]> {
  const leftFirst = round % 2 === 0;
  const gap = [null, nextTurn, shortly][Math.floor(round / 2) % 3]!;
  const first = start<unknown>(leftFirst ? left : right);
  const second = gap ? gap().then(() => start<unknown>(leftFirst ? right : left)) : start<unknown>(leftFirst ? right : left);
  const [one, two] = await Promise.allSettled([first, second]);
  return (leftFirst ? [one, two] : [two, one]) as [PromiseSettledResult<L>, PromiseSettledResult<R>];
}

/** The error code of a rejected outcome (undefined for a fulfilled one). */
export function codeOf(outcome: PromiseSettledResult<unknown>): string | undefined {
  return outcome.status === 'rejected' ? ((outcome.reason as { code?: string }).code ?? String(outcome.reason)) : undefined;
}

/** The value of an outcome that must have been fulfilled. */
export function valueOf<T>(outcome: PromiseSettledResult<T>): T {
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

/** Every outbox row after `after`, whoever wrote it. */
export async function outbox(store: TaskStore, after = 0): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (;;) {
    const page = await store.eventsAfter(after, 1000);
    all.push(...page);
    if (page.length < 1000) return all;
    after = page.at(-1)!.id;
  }
}

/** How many rows of `kind` (about `taskId`, when given) `events` holds. */
export function count(events: readonly StoredEvent[], kind: TaskEventKind | 'WORKER_UPDATED', taskId?: number): number {
  return events.filter((e) => e.kind === kind && (taskId === undefined || e.taskId === taskId)).length;
}

/**
 * After the races: each store's bus, once it has looked for the other's rows, heard
 * every committed outbox row exactly once and in order; no store published a row twice,
 * skipped one, or published one that was rolled back.
 */
export async function expectBusesAgree({ a, b }: Pair): Promise<void> {
  const rows = (await outbox(a.store)).map((e) => e.id);
  for (const s of [a, b]) {
    await s.store.pollOutbox();
    expect(s.events.map((e) => e.id)).toEqual(rows);
  }
}
