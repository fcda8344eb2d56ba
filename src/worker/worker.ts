/**
 * The worker runner: claims tasks over one graphql-ws connection, runs a handler for
 * each (at most `concurrency` at once), keeps their leases alive, and completes or fails
 * them with their lease tokens.
 *
 *   const worker = createWorker({ url, queue: 'media', concurrency: 4, handler: async (task, ctx) => {
 *     await ctx.progress(0.5, 'halfway');
 *     return { ok: true };           // the result
 *   }});
 *   await worker.start();
 *   process.on('SIGTERM', () => worker.stop({ timeoutMs: 30_000 }));
 *
 * Guarantees and choices:
 * - Claims use the long-poll (`claimTasks(waitSeconds)`) with `limit` = free handler
 *   slots, and the next claim is sent only when the previous one has answered, so no
 *   more than `concurrency` handlers ever run. A slot is free once its handler has
 *   returned: the next claim travels while the last batch's outcomes are delivered
 *   (at most `concurrency` outcomes are in delivery at once).
 * - Outcomes that are ready in the same turn go out together: one `completeTasks` and
 *   one `failTasks` (see batch.ts), each caller still answered for its own lease.
 * - `prefetch` > 0 claims that many tasks beyond the free slots, to wait in a local queue
 *   (like Graphile Worker's): a slot that frees starts the next at once, without a round
 *   trip. Their leases are renewed with the others; a lost one is dropped, one whose
 *   cancel was asked is given back (the server cancels it), and stop() gives back all
 *   still waiting at once with `releaseTasks` (their attempt does not count).
 * - One heartbeat every lease/3 renews every lease held (running tasks and tasks whose
 *   completion is still being delivered). A lease the server calls lost, or that ran
 *   past its end without a successful renewal, aborts the handler's signal with a
 *   `LeaseLostError`, and nothing more is sent for that attempt. `cancelRequested`
 *   aborts it with a `TaskCancelledError`; the handler's error then fails the attempt
 *   and the server records the task CANCELLED. (A handler that returns a result despite
 *   the abort completes the task: the work is done.)
 * - A completion (complete or fail) is sent again for the same lease after network
 *   errors or a server restart until the server gives a definite answer: success, or
 *   LEASE_LOST / NOT_FOUND. The server clears the lease token when it applies one, so a
 *   repeat can never apply twice; a LEASE_LOST after a repeat is checked against the
 *   task (SUCCEEDED with our attempt number means ours got there).
 *
 * One file on purpose (over 500 lines): the slots, the leases kept alive, the answers
 * resent after a lost connection and the drain at stop share one state, whose rules are
 * easier to keep in one place than across modules that would pass it around.
 */
import { hostname } from 'node:os';
import { backoffDelay, connect, type Connection, type ReconnectOptions } from './connection.js';
import {
  ConnectionError,
  GraphQLRequestError,
  LeaseLostError,
  TaskCancelledError,
  WorkerStoppedError,
  isTransientError,
} from './errors.js';
import type {
  ClaimStrategy,
  CompleteTaskInput,
  FailTaskInput,
  LogLevel,
  TaskStatus,
  WorkerClaimTasksMutation,
  WorkerCompleteTaskMutation,
  WorkerFailTaskMutation,
} from './gql/graphql.js';
import { OutcomeBatch } from './batch.js';
import {
  AppendTaskLogMutation,
  ClaimTasksMutation,
  CompleteTaskMutation,
  CompleteTasksMutation,
  FailTaskMutation,
  FailTasksMutation,
  ReleaseTasksMutation,
  UpdateTaskMetadataMutation,
  HeartbeatMutation,
  ReportProgressMutation,
  TaskOutcomeQuery,
} from './operations.js';

export type { ClaimStrategy, LogLevel, TaskStatus };

/** A claimed task, as the handler sees it. */
export interface WorkerTask<Payload = unknown> {
  /** Global id (what the API returns and accepts). */
  id: string;
  type: string;
  queue: string;
  payload: Payload;
  priority: number;
  /** 1 for the first run, 2 for the first retry, ... */
  attempt: number;
  maxAttempts: number;
  compatibility: unknown;
  region: string | null;
  format: string | null;
  correlationId: string | null;
  timeoutSeconds: number | null;
  createdAt: string;
}

export interface TaskContext {
  taskId: string;
  attempt: number;
  workerId: string;
  leaseToken: string;
  /** Aborted when the task is cancelled, its lease is lost, or stop() runs out of time; `signal.reason` says which. */
  signal: AbortSignal;
  /**
   * Reports progress (0..1, clamped) and an optional message. Calls are sent in order,
   * one at a time; when several pile up, only the newest is sent. Resolves once sent, or
   * at once while the server cannot be reached (the value stays queued and goes out after
   * the reconnect), so a handler never stalls on it. Never rejects. A LEASE_LOST answer
   * aborts the signal; an answer that says a cancel was requested aborts it too.
   */
  progress(fraction: number, message?: string): Promise<void>;
  /**
   * Appends a line to the task's log. Lines are stored in order, before the task's
   * completion; resolves like progress(); never rejects.
   */
  log(level: LogLevel | Lowercase<LogLevel>, message: string, details?: unknown): Promise<void>;
  /**
   * Merges into the task's metadata (JSON Merge Patch: a null removes a key), which
   * frontends see live. Sent in order with log lines; resolves like log(); never rejects.
   */
  mergeMetadata(patch: Record<string, unknown>): Promise<void>;
  /** Replaces the task's metadata; as mergeMetadata otherwise. */
  setMetadata(metadata: Record<string, unknown>): Promise<void>;
}

export type TaskHandler<Payload = unknown, Result = unknown> = (
  task: WorkerTask<Payload>,
  ctx: TaskContext,
) => Result | Promise<Result>;

export interface WorkerLogger {
  debug?(message: string, details?: Record<string, unknown>): void;
  info?(message: string, details?: Record<string, unknown>): void;
  warn?(message: string, details?: Record<string, unknown>): void;
  error?(message: string, details?: Record<string, unknown>): void;
}

export interface WorkerOptions<Payload = unknown, Result = unknown> {
  /** GraphQL endpoint, http(s):// or ws(s)://, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** Sent as connectionParams `{ authorization: "Bearer <token>" }`. */
  token?: string | undefined;
  /** Default `<hostname>-<pid>`. */
  workerId?: string;
  /** Default "default". */
  queue?: string;
  /** Only these task types (default: all). */
  types?: string[];
  /** Matched against each task's compatibility, e.g. { region: 'eu-west', formats: ['png'] }. */
  capabilities?: Record<string, unknown>;
  /** Most handlers running at once. Default 1. */
  concurrency?: number;
  /**
   * Tasks claimed beyond the free slots, waiting locally to start (default 0). Worth it
   * for short tasks; their leases (and timeouts) run from the claim, so keep it small
   * next to the lease length.
   */
  prefetch?: number;
  /** Lease length in seconds; renewed every third of it. Default 30. */
  leaseSeconds?: number;
  /** Default PRIORITY. */
  strategy?: ClaimStrategy;
  /** Long-poll length of each claim. Shorter means a quicker stop() when idle. Default 5. */
  waitSeconds?: number;
  handler: TaskHandler<Payload, Result>;
  /** Default: warnings and errors to the console. */
  logger?: WorkerLogger;
  /** Reconnect and retry backoff. Default 200 ms doubling up to 5 s, forever. */
  reconnect?: ReconnectOptions;
  /** Ping interval of the connection (ms); 0 disables. Default 10000. */
  keepAliveMs?: number;
}

export type FailureReason = 'error' | 'cancelled' | 'lease-lost' | 'stopped';

export interface WorkerEvents<Payload = unknown, Result = unknown> {
  /** The server recorded the task SUCCEEDED with this result. */
  completed: (task: WorkerTask<Payload>, result: Result) => void;
  /**
   * The attempt did not succeed. `status` is what the server made of it (QUEUED for a
   * retry, FAILED, CANCELLED), or null when nothing was sent (lease lost) or no answer came.
   */
  failed: (task: WorkerTask<Payload>, error: Error, info: { reason: FailureReason; status: TaskStatus | null }) => void;
  /** Trouble outside one task's outcome: a claim or heartbeat that failed, a connection error. */
  error: (error: Error) => void;
}

export interface Worker<Payload = unknown, Result = unknown> {
  readonly id: string;
  /** Tasks held: handlers running, prefetched tasks waiting, and tasks whose completion is being delivered. */
  readonly running: number;
  /** True while the socket is open. */
  readonly connected: boolean;
  /** The worker's connection (after start()), for your own typed operations on the same socket. */
  readonly connection: Connection | null;
  /** Connects and starts claiming; resolves once the first connection is acknowledged. */
  start(): Promise<void>;
  /**
   * Stops claiming, waits for the tasks in flight until `timeoutMs` (default 30000) has
   * passed, then aborts the handlers still running and fails their attempts as
   * retryable, and closes the connection.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Adds a listener; returns the function that removes it. */
  on<E extends keyof WorkerEvents<Payload, Result>>(event: E, listener: WorkerEvents<Payload, Result>[E]): () => void;
  off<E extends keyof WorkerEvents<Payload, Result>>(event: E, listener: WorkerEvents<Payload, Result>[E]): void;
}

type Claimed = WorkerClaimTasksMutation['claimTasks'][number];

/** waiting (prefetched) -> running (the handler) -> settling (the outcome in delivery) -> done. */
type Phase = 'waiting' | 'running' | 'settling' | 'done';

interface Held<Payload> {
  task: WorkerTask<Payload>;
  leaseToken: string;
  /** Made when the handler first reads ctx.signal: most handlers never do, and one per task costs. */
  controller: AbortController | null;
  /** Why the attempt was aborted (lease lost, cancel, stop), once it was. */
  abortReason: Error | null;
  phase: Phase;
  /** Local, conservative end of the lease: when the renewing request was sent, plus its length. */
  leaseUntilMs: number;
  lost: boolean;
  cancelRequested: boolean;
  /** stop() failed this attempt already: send nothing more. */
  abandoned: boolean;
  progressNext: { fraction: number; message: string | null; waiters: (() => void)[] } | null;
  progressSending: Promise<void> | null;
  logChain: Promise<void>;
  settled: Promise<void>;
  /** Forgets the task: no longer held, its slot free. */
  done: () => void;
}

const DEFAULT_LOGGER: WorkerLogger = {
  warn: (m, d) => console.warn(`[taskwire worker] ${m}`, d ?? ''),
  error: (m, d) => console.error(`[taskwire worker] ${m}`, d ?? ''),
};

const LOG_LEVELS = new Set<LogLevel>(['DEBUG', 'INFO', 'WARN', 'ERROR']);

/** Most tasks, leases or outcomes in one request: the server's limit for claims, heartbeats and batches. */
const PER_REQUEST = 1000;
/** Most outcomes in one completeTasks / failTasks. */
const OUTCOME_BATCH_MAX = 500;

function positiveInt(value: number | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new TypeError(`${name} must be an integer >= ${min} (got ${value})`);
  return value;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return typeof e === 'string' ? e : JSON.stringify(e) ?? String(e);
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(errorMessage(e));
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export function createWorker<Payload = unknown, Result = unknown>(options: WorkerOptions<Payload, Result>): Worker<Payload, Result> {
  if (typeof options.handler !== 'function') throw new TypeError('handler must be a function');
  const workerId = options.workerId ?? `${hostname()}-${process.pid}`;
  const queue = options.queue ?? 'default';
  const concurrency = positiveInt(options.concurrency, 'concurrency', 1);
  const prefetch = positiveInt(options.prefetch, 'prefetch', 0, 0);
  const leaseSeconds = positiveInt(options.leaseSeconds, 'leaseSeconds', 30);
  const waitSeconds = positiveInt(options.waitSeconds, 'waitSeconds', 5);
  const heartbeatMs = Math.max(100, Math.floor((leaseSeconds * 1000) / 3));
  const logger = options.logger ?? DEFAULT_LOGGER;
  const retryInitialMs = options.reconnect?.initialDelayMs ?? 200;
  const retryMaxMs = options.reconnect?.maxDelayMs ?? 5000;

  const listeners: { [E in keyof WorkerEvents]: Set<WorkerEvents<Payload, Result>[E]> } = {
    completed: new Set(),
    failed: new Set(),
    error: new Set(),
  };
  const emit = <E extends keyof WorkerEvents>(event: E, ...args: Parameters<WorkerEvents<Payload, Result>[E]>) => {
    for (const l of listeners[event]) {
      try {
        (l as (...a: unknown[]) => void)(...args);
      } catch (e) {
        logger.error?.(`a "${event}" listener threw: ${errorMessage(e)}`);
      }
    }
  };
  const reportError = (e: unknown, what: string) => {
    const error = asError(e);
    logger.warn?.(`${what}: ${error.message}`);
    emit('error', error);
  };

  /** By lease token: a task may come back (a new attempt) while an aborted handler of its last attempt still runs. */
  const held = new Map<string, Held<Payload>>();
  /** Handlers running now (held tasks not yet settling). */
  let active = 0;
  /** Prefetched tasks, in claim order, waiting for a slot. */
  const waiting: Held<Payload>[] = [];
  const completions = new OutcomeBatch<CompleteTaskInput, WorkerCompleteTaskMutation['completeTask']>(
    (input) => conn!.request(CompleteTaskMutation, { input }).then((d) => d.completeTask),
    (inputs) => conn!.request(CompleteTasksMutation, { inputs }).then((d) => d.completeTasks),
    OUTCOME_BATCH_MAX,
  );
  const failures = new OutcomeBatch<FailTaskInput, WorkerFailTaskMutation['failTask']>(
    (input) => conn!.request(FailTaskMutation, { input }).then((d) => d.failTask),
    (inputs) => conn!.request(FailTasksMutation, { inputs }).then((d) => d.failTasks),
    OUTCOME_BATCH_MAX,
  );
  let conn: Connection | null = null;
  let started: Promise<void> | null = null;
  let stopping = false;
  let stopped: Promise<void> | null = null;
  /** Aborted when stop() gives up on waiting: ends retry sleeps and the pending claim. */
  const giveUp = new AbortController();
  /** Aborted when stop() starts: ends the claim loop's retry sleeps. */
  const stopRequested = new AbortController();
  let heartbeatTimer: NodeJS.Timeout | null = null;
  let heartbeatInFlight: Promise<void> | null = null;
  let claimLoopDone: Promise<void> = Promise.resolve();
  let slotWaiter: (() => void) | null = null;
  const wakeClaimLoop = () => {
    slotWaiter?.();
    slotWaiter = null;
  };
  // Resolved when the socket closes: progress() and log() stop making handlers wait then.
  let offline!: Promise<void>;
  let goOffline!: () => void;
  const resetOffline = () => (offline = new Promise<void>((r) => (goOffline = r)));
  resetOffline();
  /** `sent`, or sooner if the server cannot be reached: the value stays queued and is sent on reconnect. */
  const sentOrOffline = (sent: Promise<void>): Promise<void> => (conn?.connected ? Promise.race([sent, offline]) : Promise.resolve());

  // ------------------------------------------------------------------ claiming

  async function claimLoop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      // Free handler slots (and room in the local queue); tasks whose outcome is still in
      // delivery count again past `concurrency` of them.
      const free = Math.min(concurrency + prefetch - active - waiting.length, 2 * concurrency + prefetch - held.size, PER_REQUEST);
      if (free <= 0) {
        await new Promise<void>((r) => (slotWaiter = r));
        continue;
      }
      const sentAt = Date.now();
      try {
        const data = await conn!.request(
          ClaimTasksMutation,
          {
            input: {
              workerId,
              queue,
              types: options.types ?? null,
              capabilities: options.capabilities ?? null,
              limit: free,
              leaseSeconds,
              strategy: options.strategy ?? null,
              waitSeconds,
            },
          },
          { signal: giveUp.signal },
        );
        failures = 0;
        if (data.claimTasks.length > 0) logger.debug?.(`claimed ${data.claimTasks.map((c) => c.task.id).join(', ')}`);
        for (const claimed of data.claimTasks) {
          const h = hold(claimed, sentAt);
          if (active < concurrency) startHandler(h);
          else waiting.push(h);
        }
        // Claimed while stopping (the long-poll answered late): give those back too.
        if (stopping) void releaseWaiting();
      } catch (e) {
        if (giveUp.signal.aborted) break;
        reportError(e, 'claim failed');
        await sleep(backoffDelay(failures++, retryInitialMs, retryMaxMs), stopRequested.signal);
      }
    }
  }

  // ------------------------------------------------------------------ leases

  function abort(h: Held<Payload>, reason: Error): void {
    if (h.abortReason) return;
    h.abortReason = reason;
    h.controller?.abort(reason);
  }

  function markLost(h: Held<Payload>, detail: string): void {
    if (h.phase !== 'running' || h.lost) return;
    h.lost = true;
    logger.warn?.(`task ${h.task.id}: ${detail}; aborting its handler`, { taskId: h.task.id });
    abort(h, new LeaseLostError(h.task.id, detail));
  }

  function requestCancel(h: Held<Payload>): void {
    if (h.phase !== 'running' || h.cancelRequested || h.lost) return;
    h.cancelRequested = true;
    logger.info?.(`task ${h.task.id}: cancel requested; aborting its handler`, { taskId: h.task.id });
    abort(h, new TaskCancelledError(h.task.id));
  }

  function heartbeat(): Promise<void> {
    const now = Date.now();
    // A lease past its end that could not be renewed is gone (the server sweeps it).
    for (const h of held.values()) {
      if (now <= h.leaseUntilMs) continue;
      if (h.phase === 'running') markLost(h, 'the lease ran out before it could be renewed');
      else if (h.phase === 'waiting') dropWaiting(h, 'its lease ran out before it could be renewed');
    }
    if (heartbeatInFlight || !conn) return heartbeatInFlight ?? Promise.resolve();
    const renewing = [...held.values()].filter((h) => h.phase !== 'done' && !h.lost && !h.abandoned);
    const byTaskId = new Map(renewing.map((h) => [h.task.id, h]));
    const leases = renewing.map((h) => ({ taskId: h.task.id, leaseToken: h.leaseToken }));
    const sentAt = Date.now();
    // The server renews at most PER_REQUEST leases a call; more go in parallel calls.
    const calls: Promise<{ heartbeat: { leases: { taskId: string; lost: boolean; cancelRequested: boolean }[] } }>[] = [];
    for (let i = 0; i === 0 || i < leases.length; i += PER_REQUEST) {
      const input = { workerId, leases: leases.slice(i, i + PER_REQUEST), extendSeconds: leaseSeconds, capabilities: options.capabilities ?? null };
      calls.push(conn.request(HeartbeatMutation, { input }));
    }
    heartbeatInFlight = Promise.all(calls)
      .then(
        (answers) => {
          for (const state of answers.flatMap((a) => a.heartbeat.leases)) {
            const h = byTaskId.get(state.taskId);
            if (h?.phase === 'waiting') {
              if (state.lost) dropWaiting(h, 'the server reports its lease lost');
              else if (state.cancelRequested) void releaseWaiting([h]); // the server cancels it
              else h.leaseUntilMs = Math.max(h.leaseUntilMs, sentAt + leaseSeconds * 1000);
              continue;
            }
            if (!h || h.phase !== 'running') continue; // a completion in flight is answered by the completion
            if (state.lost) markLost(h, 'the server reports the lease lost');
            else {
              h.leaseUntilMs = Math.max(h.leaseUntilMs, sentAt + leaseSeconds * 1000);
              if (state.cancelRequested) requestCancel(h);
            }
          }
        },
        (e) => {
          if (!giveUp.signal.aborted) reportError(e, 'heartbeat failed');
        },
      )
      .finally(() => {
        heartbeatInFlight = null;
      });
    return heartbeatInFlight;
  }

  // ------------------------------------------------------------------ one task

  function sideChannelFailed(h: Held<Payload>, e: unknown, what: string): void {
    if (e instanceof GraphQLRequestError && (e.code === 'LEASE_LOST' || e.code === 'NOT_FOUND')) {
      markLost(h, `the server refused ${what} (${e.code})`);
    } else if (!giveUp.signal.aborted) {
      logger.warn?.(`task ${h.task.id}: ${what} failed: ${errorMessage(e)}`);
    }
  }

  function pumpProgress(h: Held<Payload>): void {
    if (h.progressSending || !h.progressNext) return;
    const { fraction, message, waiters } = h.progressNext;
    h.progressNext = null;
    h.progressSending = conn!
      .request(ReportProgressMutation, { input: { taskId: h.task.id, leaseToken: h.leaseToken, progress: fraction, message } })
      .then(
        // The answer says whether a cancel was requested: no need to wait for the heartbeat.
        (data) => {
          if (data.reportProgress.cancelRequested) requestCancel(h);
        },
        (e) => sideChannelFailed(h, e, 'a progress report'),
      )
      .finally(() => {
        h.progressSending = null;
        for (const w of waiters) w();
        pumpProgress(h);
      });
  }

  /**
   * Sends a side-channel update of the task (a log line, metadata) after the ones before
   * it; resolves once sent, or at once while offline; never rejects.
   */
  function inOrder(h: Held<Payload>, what: string, send: () => Promise<unknown>): Promise<void> {
    if (h.phase !== 'running' || h.lost || h.abandoned) return Promise.resolve();
    h.logChain = h.logChain.then(() =>
      send().then(
        () => {},
        (e) => sideChannelFailed(h, e, what),
      ),
    );
    return sentOrOffline(h.logChain);
  }

  function sendMetadata(h: Held<Payload>, metadata: Record<string, unknown>, mode: 'SET' | 'MERGE'): Promise<void> {
    return inOrder(h, 'a metadata update', () =>
      conn!.request(UpdateTaskMetadataMutation, { input: { taskId: h.task.id, leaseToken: h.leaseToken, metadata, mode } }),
    );
  }

  function makeContext(h: Held<Payload>): TaskContext {
    return {
      taskId: h.task.id,
      attempt: h.task.attempt,
      workerId,
      leaseToken: h.leaseToken,
      get signal() {
        if (!h.controller) {
          h.controller = new AbortController();
          if (h.abortReason) h.controller.abort(h.abortReason);
        }
        return h.controller.signal;
      },
      progress(fraction, message) {
        if (h.phase !== 'running' || h.lost || h.abandoned) return Promise.resolve();
        const value = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
        const sent = new Promise<void>((resolve) => {
          const waiters = h.progressNext?.waiters ?? [];
          waiters.push(resolve);
          h.progressNext = { fraction: value, message: message ?? null, waiters };
        });
        pumpProgress(h);
        return sentOrOffline(sent);
      },
      log(level, message, details) {
        const upper = String(level).toUpperCase() as LogLevel;
        const lvl: LogLevel = LOG_LEVELS.has(upper) ? upper : 'INFO';
        return inOrder(h, 'a log line', () =>
          conn!.request(AppendTaskLogMutation, {
            input: { taskId: h.task.id, leaseToken: h.leaseToken, level: lvl, message: String(message), details: details ?? null },
          }),
        );
      },
      mergeMetadata: (patch) => sendMetadata(h, patch, 'MERGE'),
      setMetadata: (metadata) => sendMetadata(h, metadata, 'SET'),
    };
  }

  function toTask(c: Claimed): WorkerTask<Payload> {
    const t = c.task;
    return {
      id: t.id,
      type: t.type,
      queue: t.queue,
      payload: t.payload as Payload,
      priority: t.priority,
      attempt: t.attempts,
      maxAttempts: t.maxAttempts,
      compatibility: t.compatibility,
      region: t.region,
      format: t.format,
      correlationId: t.correlationId,
      timeoutSeconds: t.timeoutSeconds,
      createdAt: t.createdAt,
    };
  }

  /** A claimed task, held (its lease renewed) from now until its outcome is delivered. */
  function hold(c: Claimed, sentAt: number): Held<Payload> {
    let resolveSettled!: () => void;
    const h: Held<Payload> = {
      task: toTask(c),
      leaseToken: c.leaseToken,
      controller: null,
      abortReason: null,
      phase: 'waiting',
      leaseUntilMs: sentAt + leaseSeconds * 1000,
      lost: false,
      cancelRequested: false,
      abandoned: false,
      progressNext: null,
      progressSending: null,
      logChain: Promise.resolve(),
      settled: new Promise<void>((r) => (resolveSettled = r)),
      done: () => {
        h.phase = 'done';
        held.delete(h.leaseToken);
        resolveSettled();
        wakeClaimLoop();
      },
    };
    held.set(h.leaseToken, h);
    return h;
  }

  /** Runs the handler of a held task. */
  function startHandler(h: Held<Payload>): void {
    const { task } = h;
    h.phase = 'running';
    active++;
    logger.debug?.(`task ${task.id} (${task.type}) attempt ${task.attempt}: started`, { taskId: task.id });
    const ctx = makeContext(h);
    void Promise.resolve()
      .then(() => options.handler(task, ctx))
      .then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      )
      .then((outcome) => {
        active--;
        const next = waiting.shift();
        if (next) startHandler(next);
        else wakeClaimLoop();
        return settle(h, outcome);
      })
      .catch((e) => reportError(e, `task ${task.id}: settling failed`))
      .finally(h.done);
  }

  /** A prefetched task whose lease is gone: forget it (its attempt is the server's to end). */
  function dropWaiting(h: Held<Payload>, why: string): void {
    const i = waiting.indexOf(h);
    if (i < 0) return;
    waiting.splice(i, 1);
    logger.warn?.(`prefetched task ${h.task.id}: ${why}; dropped before it started`, { taskId: h.task.id });
    h.done();
  }

  /**
   * Gives prefetched tasks back to the server (all still waiting, by default): they go
   * back to the queue with their attempt uncounted. Resolves once the server answered,
   * or the attempt to tell it failed (their leases then lapse and the sweep requeues them).
   */
  async function releaseWaiting(which: Held<Payload>[] = [...waiting]): Promise<void> {
    const releasing = which.filter((h) => waiting.includes(h));
    if (releasing.length === 0) return;
    for (const h of releasing) waiting.splice(waiting.indexOf(h), 1);
    try {
      await conn!.request(ReleaseTasksMutation, { inputs: releasing.map((h) => ({ taskId: h.task.id, leaseToken: h.leaseToken })) });
      logger.debug?.(`gave back ${releasing.length} prefetched task(s)`);
    } catch (e) {
      if (!giveUp.signal.aborted) reportError(e, 'giving back prefetched tasks failed');
    } finally {
      for (const h of releasing) h.done();
    }
  }

  async function settle(h: Held<Payload>, outcome: { ok: true; value: Result } | { ok: false; error: unknown }): Promise<void> {
    if (h.abandoned) return; // stop() already failed this attempt
    if (h.lost) {
      emit('failed', h.task, h.abortReason ?? new LeaseLostError(h.task.id, 'lost'), { reason: 'lease-lost', status: null });
      return;
    }
    h.phase = 'settling';
    // Progress not yet sent is moot (completion sets 1); log lines already queued go first.
    if (h.progressNext) {
      for (const w of h.progressNext.waiters) w();
      h.progressNext = null;
    }
    await Promise.all([h.logChain, h.progressSending]);
    if (h.abandoned) return;

    if (outcome.ok) {
      const answer = await deliver(h, () => completions.send({ taskId: h.task.id, leaseToken: h.leaseToken, result: outcome.value ?? null }));
      if (answer.ok) {
        emit('completed', h.task, outcome.value);
        return;
      }
      const e = answer.error;
      if (e instanceof GraphQLRequestError && e.code === 'VALIDATION') {
        // The result itself was refused (too large, not JSON): the attempt fails for good.
        return fail(h, new Error(`the result was refused: ${e.message}`), false);
      }
      if (e instanceof GraphQLRequestError && e.code === 'LEASE_LOST') {
        // Sent again after a reconnect? Then the first one may have been applied.
        const t = await taskNow(h);
        if (t?.status === 'SUCCEEDED' && t.attempts === h.task.attempt) {
          logger.debug?.(`task ${h.task.id}: the completion had been applied before the connection dropped`);
          emit('completed', h.task, outcome.value);
          return;
        }
      }
      emit('failed', h.task, e, { reason: failureReason(e, 'error'), status: null });
      return;
    }
    const error = outcome.error;
    const retryable = !(typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false);
    return fail(h, error, retryable);
  }

  async function fail(h: Held<Payload>, error: unknown, retryable: boolean): Promise<void> {
    const raw = (error as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
    const retryAfterSeconds = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? Math.round(raw) : null;
    const reason: FailureReason = h.cancelRequested ? 'cancelled' : 'error';
    const answer = await deliver(h, () =>
      failures.send({
        taskId: h.task.id,
        leaseToken: h.leaseToken,
        error: errorMessage(error).slice(0, 10_000) || 'failed',
        retryable,
        retryAfterSeconds,
      }),
    );
    if (answer.ok) {
      emit('failed', h.task, asError(error), { reason, status: answer.value.status });
      return;
    }
    const e = answer.error;
    if (e instanceof GraphQLRequestError && e.code === 'LEASE_LOST') {
      // Sent again after a reconnect? The attempt has ended either way; say how, if we can.
      const t = await taskNow(h);
      if (t && t.attempts === h.task.attempt && t.status !== 'RUNNING') {
        emit('failed', h.task, asError(error), { reason, status: t.status });
        return;
      }
    }
    emit('failed', h.task, asError(error), { reason: failureReason(e, reason), status: null });
  }

  /** Why an outcome could not be delivered: the lease was gone, we were stopping, or the server refused it. */
  function failureReason(e: Error, otherwise: FailureReason): FailureReason {
    if (e instanceof GraphQLRequestError) {
      if (e.code === 'LEASE_LOST' || e.code === 'NOT_FOUND') return 'lease-lost';
      reportError(e, 'the server refused an outcome');
      return otherwise;
    }
    return 'stopped';
  }

  /**
   * Sends a completion until the server gives a definite answer. Network errors and
   * "try again" answers (BUSY, ...) are retried for the same lease with backoff; the
   * connection itself re-sends an operation that was cut off by a reconnect.
   */
  async function deliver<T>(h: Held<Payload>, send: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return { ok: true, value: await send() };
      } catch (e) {
        if (!isTransientError(e) || giveUp.signal.aborted || h.abandoned) return { ok: false, error: asError(e) };
        logger.warn?.(`task ${h.task.id}: delivering the outcome failed (${errorMessage(e)}); retrying`);
        await sleep(backoffDelay(attempt, retryInitialMs, retryMaxMs), giveUp.signal);
      }
    }
  }

  /** The task as the server has it now (after an ambiguous LEASE_LOST), or null. */
  async function taskNow(h: Held<Payload>): Promise<{ status: TaskStatus; attempts: number } | null> {
    const answer = await deliver(h, () => conn!.request(TaskOutcomeQuery, { id: h.task.id }));
    return answer.ok ? answer.value.task : null;
  }

  // ------------------------------------------------------------------ lifecycle

  function start(): Promise<void> {
    if (stopping) return Promise.reject(new Error('the worker was stopped; create a new one'));
    if (started) return started;
    started = new Promise<void>((resolve) => {
      let first = true;
      let refusedReported = false;
      conn = connect({
        url: options.url,
        token: options.token,
        reconnect: options.reconnect,
        keepAliveMs: options.keepAliveMs,
        onConnected: (wasRetry) => {
          resetOffline();
          refusedReported = false;
          logger.info?.(wasRetry ? 'reconnected' : 'connected', { url: options.url, workerId });
          if (first) {
            first = false;
            resolve();
          } else if (held.size > 0) void heartbeat();
        },
        onClosed: (code, reason) => {
          goOffline();
          // Retried like any close (a token may be fixed on the server), but said once.
          if (code === 4403 && !refusedReported) {
            refusedReported = true;
            reportError(new ConnectionError('the server refused the connection (4403 Forbidden): check the token', code), 'connection refused');
          }
          if (!giveUp.signal.aborted) logger.info?.(`connection closed (${code ?? '?'}${reason ? `: ${reason}` : ''}); reconnecting`);
        },
        onError: (e) => reportError(e, 'connection error'),
      });
      heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);
      // Register the worker (and its capabilities) at once.
      void heartbeat();
      claimLoopDone = claimLoop();
      giveUp.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return started;
  }

  async function stopImpl(timeoutMs: number): Promise<void> {
    stopping = true;
    stopRequested.abort();
    wakeClaimLoop();
    if (!conn) return;
    const released = releaseWaiting();
    const deadline = Date.now() + timeoutMs;
    /** Waits for `work`, at most `ms`; leaves no timer behind. */
    const atMost = async (work: Promise<unknown>, ms: number) => {
      const done = new AbortController();
      await Promise.race([work, sleep(ms, done.signal)]);
      done.abort();
    };
    // 1. The pending claim answers within waitSeconds (its tasks are run like the others),
    //    then every task in flight finishes, or the deadline passes.
    const drained = (async () => {
      await claimLoopDone;
      await released;
      while (held.size > 0) await Promise.all([...held.values()].map((h) => h.settled));
    })();
    await atMost(drained, Math.max(0, deadline - Date.now()));

    // 2. Out of time: abort what still runs and fail those attempts as retryable. Tasks
    //    whose outcome is being delivered get a few more seconds.
    if (held.size > 0) {
      const graceMs = 5000;
      const abandoned: Promise<unknown>[] = [];
      for (const h of held.values()) {
        if (h.phase !== 'running' || h.lost) continue; // a lost lease reports itself
        h.abandoned = true;
        abort(h, new WorkerStoppedError());
        const error = new WorkerStoppedError(`the worker ${workerId} stopped before the task finished`);
        abandoned.push(
          failures.send({ taskId: h.task.id, leaseToken: h.leaseToken, error: error.message, retryable: true, retryAfterSeconds: 0 }).then(
            (t) => emit('failed', h.task, error, { reason: 'stopped', status: t.status }),
            () => emit('failed', h.task, error, { reason: 'stopped', status: null }),
          ),
        );
      }
      const settling = [...held.values()].filter((h) => h.phase === 'settling').map((h) => h.settled);
      await atMost(Promise.all([...abandoned, ...settling]), graceMs);
    }

    // 3. Close: ends the pending claim (if the deadline cut it short) and any stragglers.
    giveUp.abort(new WorkerStoppedError());
    if (heartbeatTimer) clearInterval(heartbeatTimer);
    heartbeatTimer = null;
    await conn.close();
    logger.info?.('stopped', { workerId });
  }

  return {
    id: workerId,
    get running() {
      return held.size;
    },
    get connected() {
      return conn?.connected ?? false;
    },
    get connection() {
      return conn;
    },
    start,
    stop(opts = {}) {
      stopped ??= stopImpl(opts.timeoutMs ?? 30_000);
      return stopped;
    },
    on(event, listener) {
      listeners[event].add(listener as never);
      return () => void listeners[event].delete(listener as never);
    },
    off(event, listener) {
      listeners[event].delete(listener as never);
    },
  };
}


