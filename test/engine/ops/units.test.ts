/**
 * The engine's operations without a database: each unit runs against a scripted driver
 * that answers only the operations a test expects (any other call fails the test), so
 * these pin down the decisions a unit makes from what its driver answers, including the
 * answers only a driver with several writers gives (a guarded write that matched nothing).
 */
import { describe, expect, it } from 'vitest';
import type { OpName, Ops } from '../../../src/store/driver.js';
import type { EngineEnv } from '../../../src/store/engine/env.js';
import { cancel } from '../../../src/store/engine/ops/cancel-retry.js';
import { claim } from '../../../src/store/engine/ops/claim.js';
import { enqueueOne } from '../../../src/store/engine/ops/enqueue.js';
import { complete, fail } from '../../../src/store/engine/ops/leases.js';
import { fireDueSchedules } from '../../../src/store/engine/ops/schedules.js';
import { sweep } from '../../../src/store/engine/ops/sweep.js';
import { call, runSync, savepoint, type Unit } from '../../../src/store/engine/unit.js';
import { TaskwireError, validation } from '../../../src/store/errors.js';
import type { Task } from '../../../src/store/types.js';

const NOW = 1_000_000;
const env: EngineEnv = {
  now: () => NOW,
  random: () => 0.5,
  defaultLeaseSeconds: 30,
  backoffBaseMs: 1000,
  backoffCapMs: 60_000,
  staleWorkerAfterMs: 60_000,
  maxPayloadBytes: 1024,
};

type Handlers = Partial<{ [K in OpName]: (...args: Parameters<Ops[K]>) => ReturnType<Ops[K]> }>;

/** A driver that answers from `handlers` and records every call; savepoints nest. */
function scripted(handlers: Handlers) {
  const calls: [string, ...unknown[]][] = [];
  const ops = new Proxy({} as Ops, {
    get: (_target, name: string) => (...args: unknown[]) => {
      calls.push([name, ...args]);
      const h = (handlers as Record<string, (...a: unknown[]) => unknown>)[name];
      if (!h) throw new Error(`unexpected driver call ${name}`);
      return h(...args);
    },
  });
  const nest = (unit: Unit<unknown>): unknown => runSync(unit, ops, nest);
  const run = <T>(unit: Unit<T>): T => runSync(unit, ops, nest);
  const events = () => calls.filter((c) => c[0] === 'appendEvent').map((c) => (c[1] as { kind: string }).kind);
  return { run, calls, events, names: () => calls.map((c) => c[0]) };
}

const task = (over: Partial<Task> = {}): Task =>
  ({ id: 1, queue: 'default', type: 'job', status: 'RUNNING', attempts: 1, maxAttempts: 3, cancelRequested: false, createdBy: null, lockedBy: 'w1', timeoutSeconds: null, ...over }) as Task;

function thrown(fn: () => unknown): TaskwireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TaskwireError);
    return e as TaskwireError;
  }
  throw new Error('expected a TaskwireError');
}

describe('the unit runner', () => {
  it('feeds each call its answer and throws a failed call into the unit, where try/catch sees it', () => {
    function* unit(): Unit<string> {
      const first = yield* call('task', 1);
      try {
        yield* call('task', 2);
      } catch (e) {
        return `${first?.id}:${(e as Error).message}`;
      }
      return 'not reached';
    }
    const d = scripted({
      task: (id) => {
        if (id === 2) throw new Error('boom');
        return task({ id });
      },
    });
    expect(d.run(unit())).toBe('1:boom');
  });

  it('a savepoint runs its unit through the driver and passes back its result or its error', () => {
    let nested = 0;
    const ops = new Proxy({} as Ops, { get: () => () => task() });
    const nest = (u: Unit<unknown>) => {
      nested++;
      return runSync(u, ops, nest);
    };
    function* failing(): Unit<number> {
      yield* call('task', 1);
      throw validation('bad template');
    }
    function* outer(): Unit<string> {
      try {
        yield* savepoint(failing());
      } catch (e) {
        return (e as TaskwireError).code;
      }
      return 'no error';
    }
    expect(runSync(outer(), ops, nest)).toBe('VALIDATION');
    expect(nested).toBe(1);
  });
});

describe('complete', () => {
  const ref = { taskId: 1, leaseToken: 'tok', holder: 'w1' };

  it('a guarded write that matched nothing is diagnosed from the lease: NOT_FOUND, LEASE_LOST, FORBIDDEN', () => {
    const cases: [Ops['leaseHolder'] extends (...a: never[]) => infer R ? R : never, string][] = [
      [null, 'NOT_FOUND'],
      [{ status: 'RUNNING', leaseToken: 'other', lockedBy: 'w2' }, 'LEASE_LOST'],
      [{ status: 'QUEUED', leaseToken: null, lockedBy: null }, 'LEASE_LOST'],
      [{ status: 'RUNNING', leaseToken: 'tok', lockedBy: 'w2' }, 'FORBIDDEN'],
      // Held after all (it changed between the write and the read): still no success.
      [{ status: 'RUNNING', leaseToken: 'tok', lockedBy: 'w1' }, 'LEASE_LOST'],
    ];
    for (const [holder, code] of cases) {
      const d = scripted({ finishIfLeased: () => [null], leaseHolder: () => holder });
      expect(thrown(() => d.run(complete([ref], [null], NOW))).code).toBe(code);
      expect(d.events()).toEqual([]);
    }
  });

  it('records SUCCEEDED, locks the BLOCKED dependents before checking them, and queues only the ready ones', () => {
    const d = scripted({
      finishIfLeased: () => [task({ status: 'SUCCEEDED' })],
      appendEvent: () => undefined,
      lockBlockedDependents: () => [5, 6],
      readyOf: (ids) => ids.filter((id) => id === 6),
      queueIfBlocked: (id) => task({ id, status: 'QUEUED' }),
    });
    d.run(complete([ref], ['{"ok":true}'], NOW));
    expect(d.names()).toEqual(['finishIfLeased', 'appendEvent', 'lockBlockedDependents', 'readyOf', 'queueIfBlocked', 'appendEvent']);
    expect(d.events()).toEqual(['SUCCEEDED', 'UNBLOCKED']);
    expect(d.calls.find((c) => c[0] === 'queueIfBlocked')![1]).toBe(6);
  });

  it('a dependent another writer unblocked first is not announced twice', () => {
    const d = scripted({
      finishIfLeased: () => [task({ status: 'SUCCEEDED' })],
      appendEvent: () => undefined,
      lockBlockedDependents: () => [5],
      readyOf: () => [5],
      queueIfBlocked: () => null,
    });
    d.run(complete([ref], [null], NOW));
    expect(d.events()).toEqual(['SUCCEEDED']);
  });

  it('a batch fails whole on its first lease that is not current, diagnosed from that lease', () => {
    const other = { taskId: 2, leaseToken: 'tok2', holder: 'w1' };
    const d = scripted({
      finishIfLeased: () => [task({ status: 'SUCCEEDED' }), null],
      leaseHolder: (id) => (id === 2 ? { status: 'RUNNING', leaseToken: 'newer', lockedBy: 'w3' } : null),
    });
    expect(thrown(() => d.run(complete([ref, other], [null, null], NOW))).code).toBe('LEASE_LOST');
    expect(d.calls.find((c) => c[0] === 'leaseHolder')![1]).toBe(2);
    expect(d.events()).toEqual([]);
  });
});

describe('fail', () => {
  it('an attempt that ended between the read and the guarded write gives LEASE_LOST and writes no event', () => {
    const d = scripted({
      lockTaskIfLeased: () => task(),
      endAttemptIfCurrent: () => null,
    });
    expect(thrown(() => d.run(fail({ taskId: 1, leaseToken: 'tok', holder: null }, { error: 'x', retryable: true, retryAfterSeconds: null }, env))).code).toBe('LEASE_LOST');
    expect(d.events()).toEqual([]);
  });

  it('names the attempt it read in the guard, and retries with the backoff decided outside the driver', () => {
    const d = scripted({
      lockTaskIfLeased: () => task({ attempts: 2 }),
      endAttemptIfCurrent: () => task({ status: 'QUEUED' }),
      appendEvent: () => undefined,
    });
    d.run(fail({ taskId: 1, leaseToken: 'tok', holder: null }, { error: 'x', retryable: true, retryAfterSeconds: 7 }, env));
    const [, id, attempt, end] = d.calls.find((c) => c[0] === 'endAttemptIfCurrent')!;
    expect([id, attempt]).toEqual([1, 2]);
    expect(end).toEqual({ status: 'QUEUED', runAfter: NOW + 7000, errorMessage: 'x' });
    expect(d.events()).toEqual(['RETRY_SCHEDULED']);
  });

  it('a stale lease locks nothing: the miss is diagnosed by a plain read (LEASE_LOST once the task was claimed again)', () => {
    const d = scripted({
      lockTaskIfLeased: () => null,
      leaseHolder: () => ({ status: 'RUNNING', leaseToken: 'newer', lockedBy: 'w2' }),
    });
    expect(thrown(() => d.run(fail({ taskId: 1, leaseToken: 'tok', holder: null }, { error: 'x', retryable: true, retryAfterSeconds: null }, env))).code).toBe('LEASE_LOST');
    expect(d.calls.map((c) => c[0])).toEqual(['lockTaskIfLeased', 'leaseHolder']);
  });
});

describe('enqueue', () => {
  it('an idempotency key taken by another writer between the read and the insert gives that task, created: false', () => {
    const theirs = task({ id: 9, status: 'QUEUED' });
    let reads = 0;
    const d = scripted({
      taskByKey: () => (reads++ === 0 ? null : theirs),
      insertTaskUnlessKeyTaken: () => null,
    });
    expect(d.run(enqueueOne({ type: 'job', payload: {}, idempotencyKey: 'k' }, NOW, env))).toEqual({ task: theirs, created: false });
    expect(d.events()).toEqual([]);
  });

  it('dependencies are read through the lock operation before the insert', () => {
    const d = scripted({
      lockStatuses: () => [{ id: 4, status: 'RUNNING' }],
      insertTaskUnlessKeyTaken: (t) => {
        expect(t.status).toBe('BLOCKED');
        return 10;
      },
      insertDependencies: () => undefined,
      appendEvent: () => undefined,
    });
    const r = d.run(enqueueOne({ type: 'job', payload: {}, dependsOn: [4] }, NOW, env));
    expect(r).toMatchObject({ created: true, task: { id: 10, status: 'BLOCKED' } });
    expect(d.names()).toEqual(['lockStatuses', 'insertTaskUnlessKeyTaken', 'insertDependencies', 'appendEvent']);
  });
});

describe('claim', () => {
  const req = {
    workerId: 'w1',
    queue: 'default',
    types: null,
    match: { region: null, formats: null },
    capabilities: null,
    limit: 2,
    leaseSeconds: 30,
    strategy: 'FIFO' as const,
  };

  it('skips a candidate another writer took first (the guarded update matched nothing) and walks again for the next', () => {
    // The walk as the queue looks each time: task 1 is gone (another writer's) and task 2
    // is this claim's by the second walk.
    const walks = [
      [1, 2],
      [3, 4],
    ];
    const d = scripted({
      refreshWorkerIfActive: () => true,
      queueControls: () => ({ limits: [], paused: [] }),
      claimWalk: (w) => (walks.shift() ?? []).slice(0, w.limit).map((id) => ({ id, type: 'job', priority: 100 })),
      markRunningIfQueued: (claims) => claims.filter((c) => c.taskId !== 1).map((c) => task({ id: c.taskId })),
      appendEvent: () => undefined,
    });
    expect(d.run(claim(req, env)).map((c) => c.task.id)).toEqual([2, 3]);
    expect(d.names().filter((n) => n === 'claimWalk')).toHaveLength(2);
    expect(d.names()).not.toContain('lockQueue');
  });

  it('with concurrency limits it locks the queue before reading the RUNNING counts', () => {
    const d = scripted({
      refreshWorkerIfActive: () => true,
      queueControls: () => ({ limits: [{ type: '', maxRunning: 3 }], paused: [] }),
      lockQueue: () => undefined,
      runningCount: () => 2,
      claimWalk: (w) => {
        expect(w.limit).toBe(1);
        return [{ id: 1, type: 'job', priority: 100 }];
      },
      markRunningIfQueued: (claims) => claims.map((c) => task({ id: c.taskId })),
      appendEvent: () => undefined,
    });
    expect(d.run(claim(req, env))).toHaveLength(1);
    expect(d.names().slice(0, 4)).toEqual(['refreshWorkerIfActive', 'queueControls', 'lockQueue', 'runningCount']);
  });
});

describe('cancel', () => {
  it('a task that left its status between the locked read and the guarded write gives CONFLICT', () => {
    const d = scripted({ lockTask: () => task({ status: 'QUEUED' }), cancelIfWaiting: () => null });
    expect(thrown(() => d.run(cancel(1, 'why', null, env))).code).toBe('CONFLICT');
    expect(d.events()).toEqual([]);
  });
});

describe('sweep', () => {
  it('counts only the attempts it ended itself', () => {
    const d = scripted({
      lockLateAttempts: () => [],
      lockLapsedLeases: () => [task({ id: 1 }), task({ id: 2 })],
      endAttemptIfCurrent: (id) => (id === 1 ? null : task({ id, status: 'QUEUED' })),
      appendEvent: () => undefined,
      markStaleWorkers: () => [],
    });
    expect(d.run(sweep(env))).toEqual({ expired: 1, timedOut: 0, staleWorkers: 0 });
    expect(d.events()).toEqual(['LEASE_EXPIRED']); // requeued at once: the attempt did not fail
  });
});

describe('fireDueSchedules', () => {
  const due = {
    name: 's',
    cron: null,
    intervalSeconds: 60,
    timezone: 'UTC',
    enabled: true,
    template: { type: 'job', payload: '{"big":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}', queue: 'default', priority: 100, compatibility: '{}', maxAttempts: 3, timeoutSeconds: null },
    anchorAt: NOW - 60_000,
    nextRunAt: NOW,
    lastRunAt: null,
    lastTaskId: null,
  };

  it('a template that no longer passes is reported and the schedule still moves on', () => {
    const d = scripted({ lockDueSchedules: () => [due], advanceSchedule: () => undefined });
    const r = d.run(fireDueSchedules({ ...env, maxPayloadBytes: 10 }));
    expect(r.fired).toEqual([]);
    expect(r.failed).toEqual([{ schedule: 's', fireAt: NOW, error: expect.stringContaining('payload') }]);
    expect(d.names()).toEqual(['lockDueSchedules', 'advanceSchedule']);
  });

  it('a fire another scheduler already enqueued (its key is taken) is not logged or counted again', () => {
    const d = scripted({
      lockDueSchedules: () => [due],
      taskByKey: () => task({ id: 3, status: 'QUEUED' }),
      advanceSchedule: () => undefined,
    });
    expect(d.run(fireDueSchedules(env))).toEqual({ fired: [], failed: [] });
    expect(d.calls.find((c) => c[0] === 'advanceSchedule')!.slice(1, 5)).toEqual(['s', NOW + 60_000, NOW, 3]);
  });
});
