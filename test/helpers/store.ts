/**
 * What every store test shares, whatever the driver: an injected clock, a seeded PRNG, a
 * temp directory that is removed afterwards, an assertion on a TaskwireError's code, and
 * the shape of a store under test (TestStore, with its probe). Stores are opened by
 * drivers.ts (any driver, chosen by TASKWIRE_TEST_DRIVER) or by sqlite.ts (SQLite-only
 * tests).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { TaskwireError, type ErrorCode, type StoredEvent, type TaskStore } from '../../src/store/index.js';

/** 2025-01-01T00:00:00Z: a round start for the injected clock. */
export const T0 = Date.UTC(2025, 0, 1);

export const iso = (ms: number) => new Date(ms).toISOString();
export const at = (s: string) => Date.parse(s);

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

/**
 * What a test may read of a task beyond the TaskStore interface, answered by each driver
 * from its own storage (SQLite: a read on its connection). Reads happen when called.
 */
export interface Probe {
  /** The lease token stored for the task; null when it holds none (or the task is unknown). */
  leaseToken(id: number): Promise<string | null>;
  /** When the running attempt's timeout falls due (ms); null when none runs with one. */
  timeoutAt(id: number): Promise<number | null>;
  /**
   * Everything the driver stores for the task, including what the Task type leaves out
   * (its lease token, its deadline), or null. Only for comparing one snapshot to another.
   */
  taskRecord(id: number): Promise<Record<string, unknown> | null>;
  /** Log rows stored for a task id, also after the task itself was removed. */
  logCount(taskId: number): Promise<number>;
  /** Rows that point at rows that do not exist (SQLite: foreign_key_check); [] when sound. */
  danglingReferences(): Promise<unknown[]>;
}

export interface TestStore<S extends TaskStore = TaskStore> {
  store: S;
  clock: Clock;
  /** Every event the store published on its bus, in order. */
  events: StoredEvent[];
  /** Kinds of the task events published so far (LOG_ADDED, WORKER_UPDATED and QUEUE_UPDATED left out). */
  taskKinds: () => string[];
  probe: Probe;
}

/** Wraps an opened store for a test: its bus is recorded, and it is closed when the test finishes. */
export function track<S extends TaskStore>(store: S, clock: Clock, probe: Probe): TestStore<S> {
  onTestFinished(async () => {
    await store.close();
  });
  const events: StoredEvent[] = [];
  store.bus.subscribe((e) => events.push(e));
  const taskKinds = () => events.filter((e) => e.taskId !== null && e.kind !== 'LOG_ADDED').map((e) => e.kind);
  return { store, clock, events, taskKinds, probe };
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
  store: TaskStore,
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
