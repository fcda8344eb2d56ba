/** Enqueue: input checks, idempotency, the initial status from dependencies. */
import { TaskwireError, validation } from '../../errors.js';
import { DUPLICATE_POLICIES, type DuplicatePolicy, type EnqueueInput, type EnqueueResult, type JsonObject, type Task } from '../../types.js';
import { isPlainObject, jsonObject, optionalInt, optionalString, requireString, requireTaskId } from '../../validate.js';
import { DEFAULTS, LIMITS } from '../defaults.js';
import type { StoredEdit } from '../../driver.js';
import type { EngineEnv } from '../env.js';
import { initialState, type DependencyState } from '../rules/dependencies.js';
import { call, type Unit } from '../unit.js';
import { addLog, taskEvent } from './outbox.js';

export interface NormalizedEnqueue {
  queue: string;
  type: string;
  priority: number;
  payload: string;
  compatibility: string;
  runAfter: number;
  maxAttempts: number;
  timeoutSeconds: number | null;
  idempotencyKey: string | null;
  correlationId: string | null;
  dependsOn: number[];
  onDuplicate: DuplicatePolicy;
  /** DEBOUNCE's cap (ms after the first enqueue); null: none. */
  maxDelayMs: number | null;
}

/** Checks an enqueue input and fills in the defaults; JSON values become text. */
export function normalizeEnqueue(input: EnqueueInput, now: number, maxPayloadBytes: number): NormalizedEnqueue {
  if (!isPlainObject(input)) throw validation('input must be an object');
  const type = requireString(input.type, 'type');
  const queue = input.queue === undefined || input.queue === null ? DEFAULTS.queue : requireString(input.queue, 'queue');
  const payload = jsonObject(input.payload, 'payload', maxPayloadBytes);
  const compatibility =
    input.compatibility === undefined || input.compatibility === null
      ? '{}'
      : jsonObject(input.compatibility, 'compatibility', LIMITS.smallJsonBytes);
  const priority = optionalInt(input.priority, 'priority', -LIMITS.priority, LIMITS.priority) ?? DEFAULTS.priority;
  const maxAttempts = optionalInt(input.maxAttempts, 'maxAttempts', 1, LIMITS.maxAttempts) ?? DEFAULTS.maxAttempts;
  const timeoutSeconds = optionalInt(input.timeoutSeconds, 'timeoutSeconds', 1, LIMITS.timeoutSeconds);
  const delaySeconds = optionalInt(input.delaySeconds, 'delaySeconds', 0, LIMITS.delaySeconds);
  let runAfter = now;
  if (input.runAfter !== undefined && input.runAfter !== null) {
    if (delaySeconds !== null) throw validation('give runAfter or delaySeconds, not both', 'runAfter');
    if (typeof input.runAfter !== 'number' || !Number.isFinite(input.runAfter)) {
      throw validation('runAfter is not a valid time', 'runAfter');
    }
    runAfter = Math.max(0, Math.trunc(input.runAfter));
  } else if (delaySeconds !== null) {
    runAfter = now + delaySeconds * 1000;
  }
  const idempotencyKey = optionalString(input.idempotencyKey, 'idempotencyKey');
  const correlationId = optionalString(input.correlationId, 'correlationId');
  let dependsOn: number[] = [];
  if (input.dependsOn !== undefined && input.dependsOn !== null) {
    if (!Array.isArray(input.dependsOn)) throw validation('dependsOn must be a list of task ids', 'dependsOn');
    if (input.dependsOn.length > LIMITS.dependsOn) {
      throw validation(`dependsOn may list at most ${LIMITS.dependsOn} tasks`, 'dependsOn');
    }
    dependsOn = [...new Set(input.dependsOn.map((id) => requireTaskId(id, 'dependsOn')))];
  }
  const onDuplicate = input.onDuplicate ?? 'RETURN_EXISTING';
  if (!DUPLICATE_POLICIES.includes(onDuplicate)) throw validation(`onDuplicate must be one of ${DUPLICATE_POLICIES.join(', ')}`, 'onDuplicate');
  const maxDelaySeconds = optionalInt(input.maxDelaySeconds, 'maxDelaySeconds', 0, LIMITS.delaySeconds);
  if (onDuplicate !== 'RETURN_EXISTING' && idempotencyKey === null) throw validation(`onDuplicate ${onDuplicate} needs an idempotencyKey`, 'onDuplicate');
  const maxDelayMs = maxDelaySeconds === null ? null : maxDelaySeconds * 1000;
  return { queue, type, priority, payload, compatibility, runAfter, maxAttempts, timeoutSeconds, idempotencyKey, correlationId, dependsOn, onDuplicate, maxDelayMs };
}

/**
 * Where a task with these dependencies starts (rules/dependencies.ts).
 * Relies on: lockStatuses holding the dependencies' rows until commit (FOR SHARE), so
 * none finishes between this read and the insert of the new edges; otherwise its
 * unblocking could not see the new edge and the task would stay BLOCKED. SQLite's
 * single writer gives the same guarantee with a plain read.
 */
export function* dependencyState(dependsOn: readonly number[]): Unit<DependencyState> {
  if (dependsOn.length === 0) return { status: 'QUEUED', reason: null };
  return initialState(dependsOn, yield* call('lockStatuses', dependsOn));
}

export function enqueueOne(input: EnqueueInput, now: number, env: EngineEnv): Unit<EnqueueResult> {
  return insertChecked(input, normalizeEnqueue(input, now, env.maxPayloadBytes), optionalString(input.createdBy, 'createdBy'), now);
}

/** Stores one task whose input was checked (normalizeEnqueue). */
function* insertChecked(input: EnqueueInput, n: NormalizedEnqueue, createdBy: string | null, now: number): Unit<EnqueueResult> {
  if (n.idempotencyKey !== null) {
    const existing = yield* call('taskByKey', n.idempotencyKey);
    if (existing) return { task: yield* onDuplicate(existing, n, input.priority !== undefined && input.priority !== null, now), created: false };
  }
  const { status, reason } = yield* dependencyState(n.dependsOn);
  const finishedAt = status === 'CANCELLED' ? now : null;
  const payload = input.payload as JsonObject;
  const compatibility = (input.compatibility ?? {}) as JsonObject;
  const region = scalarText(compatibility.region);
  const format = scalarText(payload.format);
  // Guard: a writer that took the key since the read above (possible only with several
  // writers) makes the insert change nothing; the caller then gets that task with
  // created = false instead of a unique-index CONFLICT.
  const id = yield* call('insertTaskUnlessKeyTaken', {
    queue: n.queue,
    type: n.type,
    priority: n.priority,
    payload: n.payload,
    compatibility: n.compatibility,
    status,
    maxAttempts: n.maxAttempts,
    runAfter: n.runAfter,
    idempotencyKey: n.idempotencyKey,
    correlationId: n.correlationId,
    timeoutSeconds: n.timeoutSeconds,
    errorMessage: reason,
    finishedAt,
    createdBy,
    region,
    format,
    now,
  });
  if (id === null) return { task: (yield* call('taskByKey', n.idempotencyKey!))!, created: false };
  // The new task is built from what was inserted rather than read back: that read and
  // its JSON parsing cost as much as the insert itself.
  const task: Task = {
    id,
    queue: n.queue,
    type: n.type,
    priority: n.priority,
    payload,
    compatibility,
    region,
    format,
    status,
    attempts: 0,
    maxAttempts: n.maxAttempts,
    runAfter: n.runAfter,
    leaseUntil: null,
    lockedBy: null,
    progress: null,
    progressMessage: null,
    result: null,
    errorMessage: reason,
    cancelRequested: false,
    idempotencyKey: n.idempotencyKey,
    correlationId: n.correlationId,
    timeoutSeconds: n.timeoutSeconds,
    createdBy,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt,
    metadata: null,
  };
  if (n.dependsOn.length > 0) yield* call('insertDependencies', id, n.dependsOn);
  yield* taskEvent('ENQUEUED', task, now);
  if (status === 'CANCELLED') {
    yield* addLog(id, now, 'WARN', `cancelled at enqueue: ${reason}`);
    yield* taskEvent('CANCELLED', task, now);
  }
  return { task, created: true };
}

/**
 * The enqueue policy for a key that names a task already. REPLACE and DEBOUNCE edit it
 * only while no worker has it (TRANSITIONS.edit, QUEUED or BLOCKED here: a FAILED one
 * is history), under its lock; an UPDATED event says so. Otherwise it is returned as is.
 */
function* onDuplicate(existing: Task, n: NormalizedEnqueue, priorityGiven: boolean, now: number): Unit<Task> {
  if (n.onDuplicate === 'RETURN_EXISTING' || (existing.status !== 'QUEUED' && existing.status !== 'BLOCKED')) return existing;
  const locked = yield* call('lockTask', existing.id);
  if (!locked || (locked.status !== 'QUEUED' && locked.status !== 'BLOCKED')) return locked ?? existing;
  let runAfter: number | null = null;
  if (n.onDuplicate === 'DEBOUNCE') {
    runAfter = n.maxDelayMs === null ? n.runAfter : Math.min(n.runAfter, locked.createdAt + n.maxDelayMs);
  }
  const edit = { ...payloadEdit(n.payload), priority: priorityGiven ? n.priority : null, runAfter };
  const t = yield* call('updateIfEditable', existing.id, edit, now);
  if (!t) return locked;
  yield* taskEvent('UPDATED', t, now);
  return t;
}

/**
 * Every input is checked before the first is stored: a bad one costs no statement, and
 * takes no ids from a sequence that a rollback does not give back (PostgreSQL's).
 */
export function* enqueueMany(inputs: readonly EnqueueInput[], env: EngineEnv): Unit<EnqueueResult[]> {
  const now = env.now();
  const checked = inputs.map((input, i) => {
    try {
      return { n: normalizeEnqueue(input, now, env.maxPayloadBytes), createdBy: optionalString(input.createdBy, 'createdBy') };
    } catch (e) {
      throw atIndex(e, i);
    }
  });
  const keys = checked.map((c) => c.n.idempotencyKey).filter((k): k is string => k !== null);
  // Relies on: the keys being locked in one order by every batch (lockIdempotencyKeys),
  // so that two batches with the same keys wait for each other rather than deadlock.
  if (keys.length > 1) yield* call('lockIdempotencyKeys', [...new Set(keys)].sort());
  const results: EnqueueResult[] = [];
  for (let i = 0; i < inputs.length; i++) {
    try {
      results.push(yield* insertChecked(inputs[i]!, checked[i]!.n, checked[i]!.createdBy, now));
    } catch (e) {
      throw atIndex(e, i);
    }
  }
  return results;
}

/** A validation error of one input of a batch, named by its index. */
function atIndex(e: unknown, i: number): unknown {
  if (e instanceof TaskwireError && e.code === 'VALIDATION') {
    return new TaskwireError('VALIDATION', `inputs[${i}]: ${e.message}`, { ...e.details, index: i });
  }
  return e;
}

/**
 * Task.region and Task.format: the text of a JSON scalar, as the store's columns hold it
 * (a boolean is '1' or '0', other values their JSON). One rule for every dialect: the
 * columns are written from the same values.
 */
/** An edit that gives a task this payload (JSON text) and the format column derived from it, nothing else. */
export function payloadEdit(payload: string): StoredEdit {
  const format = scalarText((JSON.parse(payload) as JsonObject).format);
  return { payload, format, priority: null, runAfter: null, maxAttempts: null };
}

export function scalarText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}
