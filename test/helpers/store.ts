/**
 * Shared setup for the engine's unit tests: a fresh store per test with an injected
 * clock and a seeded PRNG, a temp directory that is removed afterwards, and a helper
 * that asserts the code of a TaskwireError.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { SqliteTaskStore, TaskwireError, type ErrorCode, type SqliteStoreOptions, type StoredEvent } from '../../src/store/index.js';

/** 2025-01-01T00:00:00Z: a round start for the injected clock. */
export const T0 = Date.UTC(2025, 0, 1);

/** mulberry32: a tiny seeded PRNG with values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A clock the test moves by hand. */
export class Clock {
  constructor(public t: number = T0) {}
  readonly now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

export interface TestStore {
  store: SqliteTaskStore;
  clock: Clock;
  /** Every event the store published on its bus, in order. */
  events: StoredEvent[];
  /** Kinds of the task events published so far (LOG_ADDED and WORKER_UPDATED left out). */
  taskKinds: () => string[];
}

/** A fresh store (':memory:' unless a path is given), closed when the test finishes. */
export function makeStore(options: Partial<SqliteStoreOptions> & { seed?: number } = {}): TestStore {
  const clock = new Clock();
  const { seed, ...rest } = options;
  const store = new SqliteTaskStore({
    path: ':memory:',
    now: clock.now,
    random: mulberry32(seed ?? 12345),
    tailIntervalMs: 0,
    ...rest,
  });
  onTestFinished(async () => {
    await store.close();
  });
  const events: StoredEvent[] = [];
  store.bus.subscribe((e) => events.push(e));
  const taskKinds = () => events.filter((e) => e.kind !== 'LOG_ADDED' && e.kind !== 'WORKER_UPDATED').map((e) => e.kind);
  return { store, clock, events, taskKinds };
}

/** A fresh temporary directory, removed when the test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-test-'));
  onTestFinished(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Awaits `promise`, expects it to reject with a TaskwireError of `code`, and returns the error. */
export async function expectError(promise: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<TaskwireError> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a TaskwireError with code ${code}`).toBeInstanceOf(TaskwireError);
  const err = caught as TaskwireError;
  expect(err.code, err.message).toBe(code);
  return err;
}

/** Enqueues one task and claims it; returns the claimed task and its token. */
export async function enqueueAndClaim(
  store: SqliteTaskStore,
  input: { type?: string; payload?: Record<string, unknown>; maxAttempts?: number; timeoutSeconds?: number } = {},
  workerId = 'w1',
  leaseSeconds = 30,
) {
  const { task } = await store.enqueue({
    type: input.type ?? 'job',
    payload: input.payload ?? {},
    maxAttempts: input.maxAttempts ?? null,
    timeoutSeconds: input.timeoutSeconds ?? null,
  });
  const claimed = await store.claim({ workerId, leaseSeconds, types: [task.type] });
  expect(claimed.map((c) => c.task.id)).toEqual([task.id]);
  return claimed[0]!;
}

/** Raw row of a task, straight from SQLite (includes columns the Task type leaves out). */
export function rawTask(store: SqliteTaskStore, id: number): Record<string, unknown> {
  return store.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as Record<string, unknown>;
}
