/**
 * Every root field of the schema, who may call it (from the scopes in src/graphql), and a
 * call that an allowed caller could make successfully. The access tests and the hostile
 * suite both walk this table; a field added to the schema without a row here fails the
 * completeness test in access.test.ts.
 *
 * Roles (issue 6): viewers read and subscribe; producers enqueue and cancel (their own
 * tasks); workers claim, heartbeat, report progress, log, complete and fail (their own
 * leases); admins do everything.
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Role } from '../../src/store/index.js';
import { W1, type Fixture, type Principal } from './helpers.js';

export type OpKind = 'query' | 'mutation' | 'subscription';

export interface Prepared {
  variables?: Record<string, unknown>;
  /** For subscriptions that only answer on an event: makes one (called repeatedly). */
  trigger?: () => Promise<unknown>;
}

export interface OpSpec {
  field: string;
  kind: OpKind;
  /** Roles the scopes let call this field. */
  allowed: Role[];
  document: string;
  /**
   * State and variables for a call that succeeds for every allowed caller: tasks to cancel
   * are a producer's own, leases are held by worker w1, worker ids are w1.
   */
  prepare(fx: Fixture): Promise<Prepared>;
}

/** Variables `{ input }` of a mutation on one lease of w1, with extra fields. */
async function oneLease(fx: Fixture, fields: Record<string, unknown>): Promise<Prepared> {
  const { task, leaseToken } = await fx.runningTask(W1);
  return { variables: { input: { taskId: String(task.id), leaseToken, ...fields } } };
}

/** Variables of a batch mutation over two leases of w1, each input with its own extra fields. */
async function twoLeases(fx: Fixture, extra: [Record<string, unknown>, Record<string, unknown>]): Promise<Prepared> {
  const inputs = [];
  for (const fields of extra) {
    const { task, leaseToken } = await fx.runningTask(W1);
    inputs.push({ taskId: String(task.id), leaseToken, ...fields });
  }
  return { variables: { inputs } };
}

const ALL: Role[] = ['admin', 'producer', 'worker', 'viewer'];
const PRODUCE: Role[] = ['admin', 'producer'];
const WORK: Role[] = ['admin', 'worker'];
const ADMIN: Role[] = ['admin'];

export const OPS: OpSpec[] = [
  // ------------------------------------------------------------ queries: everyone who is authenticated
  {
    field: 'task',
    kind: 'query',
    allowed: ALL,
    document: 'query Q($id: ID!) { task(id: $id) { id status } }',
    prepare: async (fx) => ({ variables: { id: String((await fx.queuedTask()).id) } }),
  },
  {
    field: 'tasks',
    kind: 'query',
    allowed: ALL,
    document: 'query Q { tasks(first: 5) { totalCount edges { node { id } } } }',
    prepare: async () => ({}),
  },
  {
    field: 'worker',
    kind: 'query',
    allowed: ALL,
    document: 'query Q($id: ID!) { worker(id: $id) { id status } }',
    prepare: async (fx) => {
      await fx.runningTask(W1);
      return { variables: { id: W1 } };
    },
  },
  {
    field: 'workers',
    kind: 'query',
    allowed: ALL,
    document: 'query Q { workers { id } }',
    prepare: async () => ({}),
  },
  {
    field: 'queueStats',
    kind: 'query',
    allowed: ALL,
    document: 'query Q { queueStats { activeWorkers counts { status count } } }',
    prepare: async () => ({}),
  },
  {
    field: 'pausedQueues',
    kind: 'query',
    allowed: ALL,
    document: 'query Q { pausedQueues { queue type paused } }',
    prepare: async () => ({}),
  },
  {
    field: 'concurrencyLimits',
    kind: 'query',
    allowed: ALL,
    document: 'query Q { concurrencyLimits { queue limit } }',
    prepare: async () => ({}),
  },
  {
    field: 'schedules',
    kind: 'query',
    allowed: ALL,
    document: 'query Q { schedules { name } }',
    prepare: async () => ({}),
  },
  {
    field: 'lastEventCursor',
    kind: 'query',
    allowed: ALL,
    document: 'query Q { lastEventCursor }',
    prepare: async () => ({}),
  },
  {
    field: 'node',
    kind: 'query',
    allowed: ALL,
    document: 'query Q($id: ID!) { node(id: $id) { id ... on Task { status } } }',
    prepare: async (fx) => ({ variables: { id: encodeGlobalID('Task', (await fx.queuedTask()).id) } }),
  },
  // ------------------------------------------------------------ producers
  {
    field: 'enqueueTask',
    kind: 'mutation',
    allowed: PRODUCE,
    document: 'mutation M($input: EnqueueTaskInput!) { enqueueTask(input: $input) { created task { id } } }',
    prepare: async (fx) => ({ variables: { input: { type: 'sec', queue: fx.unique('q'), payload: { a: 1 } } } }),
  },
  {
    field: 'enqueueTasks',
    kind: 'mutation',
    allowed: PRODUCE,
    document: 'mutation M($inputs: [EnqueueTaskInput!]!) { enqueueTasks(inputs: $inputs) { created } }',
    prepare: async (fx) => {
      const queue = fx.unique('q');
      return { variables: { inputs: [{ type: 'a', queue, payload: {} }, { type: 'b', queue, payload: {} }] } };
    },
  },
  {
    field: 'cancelTask',
    kind: 'mutation',
    allowed: PRODUCE,
    document: 'mutation M($id: ID!) { cancelTask(id: $id, reason: "no longer needed") { id status } }',
    prepare: async (fx) => ({ variables: { id: String((await fx.queuedTask('producer')).id) } }),
  },
  {
    field: 'updateTask',
    kind: 'mutation',
    allowed: PRODUCE,
    document: 'mutation M($id: ID!, $input: UpdateTaskInput!) { updateTask(id: $id, input: $input) { id priority } }',
    prepare: async (fx) => ({ variables: { id: String((await fx.queuedTask('producer')).id), input: { priority: 7 } } }),
  },
  // ------------------------------------------------------------ workers
  {
    field: 'claimTasks',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($input: ClaimTasksInput!) { claimTasks(input: $input) { leaseToken task { id } } }',
    prepare: async (fx) => ({ variables: { input: { workerId: W1, queue: (await fx.queuedTask()).queue } } }),
  },
  {
    field: 'heartbeat',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($input: HeartbeatInput!) { heartbeat(input: $input) { worker { id } leases { taskId lost } } }',
    prepare: async (fx) => {
      const { task, leaseToken } = await fx.runningTask(W1);
      return { variables: { input: { workerId: W1, leases: [{ taskId: String(task.id), leaseToken }] } } };
    },
  },
  {
    field: 'reportProgress',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($input: ReportProgressInput!) { reportProgress(input: $input) { id progress } }',
    prepare: (fx) => oneLease(fx, { progress: 0.5, message: 'half' }),
  },
  {
    field: 'appendTaskLog',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($input: AppendTaskLogInput!) { appendTaskLog(input: $input) { id message } }',
    prepare: (fx) => oneLease(fx, { level: 'INFO', message: 'hello' }),
  },
  {
    field: 'completeTask',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($input: CompleteTaskInput!) { completeTask(input: $input) { id status } }',
    prepare: (fx) => oneLease(fx, { result: { ok: true } }),
  },
  {
    field: 'completeTasks',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($inputs: [CompleteTaskInput!]!) { completeTasks(inputs: $inputs) { id status } }',
    prepare: (fx) => twoLeases(fx, [{}, {}]),
  },
  {
    field: 'failTask',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($input: FailTaskInput!) { failTask(input: $input) { id status } }',
    prepare: (fx) => oneLease(fx, { error: 'it broke', retryable: false }),
  },
  {
    field: 'updateTaskMetadata',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($input: UpdateTaskMetadataInput!) { updateTaskMetadata(input: $input) { id metadata } }',
    prepare: (fx) => oneLease(fx, { metadata: { step: 'one' } }),
  },
  {
    field: 'failTasks',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($inputs: [FailTaskInput!]!) { failTasks(inputs: $inputs) { id status } }',
    prepare: (fx) => twoLeases(fx, [{ error: 'it broke', retryable: false }, { error: 'it broke too' }]),
  },
  {
    field: 'releaseTasks',
    kind: 'mutation',
    allowed: WORK,
    document: 'mutation M($inputs: [LeaseInput!]!) { releaseTasks(inputs: $inputs) { id status } }',
    prepare: (fx) => twoLeases(fx, [{}, {}]),
  },
  // ------------------------------------------------------------ admins
  {
    field: 'retryTask',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($id: ID!) { retryTask(id: $id) { id status } }',
    prepare: async (fx) => ({ variables: { id: String((await fx.failedTask()).id) } }),
  },
  {
    field: 'setConcurrencyLimit',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($input: ConcurrencyLimitInput!) { setConcurrencyLimit(input: $input) { queue limit } }',
    prepare: async (fx) => ({ variables: { input: { queue: fx.unique('q'), limit: 3 } } }),
  },
  {
    field: 'cancelTasks',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($f: TaskFilter!) { cancelTasks(filter: $f) { changed hasMore } }',
    prepare: async (fx) => ({ variables: { f: { queue: (await fx.queuedTask()).queue } } }),
  },
  {
    field: 'retryTasks',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($f: TaskFilter!) { retryTasks(filter: $f) { changed hasMore } }',
    prepare: async (fx) => ({ variables: { f: { queue: fx.unique('q') } } }),
  },
  {
    field: 'deleteTasks',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($f: TaskFilter!) { deleteTasks(filter: $f) { changed hasMore } }',
    prepare: async (fx) => ({ variables: { f: { queue: fx.unique('q') } } }),
  },
  {
    field: 'pauseQueue',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($input: QueuePauseInput!) { pauseQueue(input: $input) { queue paused } }',
    prepare: async (fx) => ({ variables: { input: { queue: fx.unique('q') } } }),
  },
  {
    field: 'resumeQueue',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($input: QueuePauseInput!) { resumeQueue(input: $input) { queue paused } }',
    prepare: async (fx) => ({ variables: { input: { queue: fx.unique('q') } } }),
  },
  {
    field: 'upsertSchedule',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($input: UpsertScheduleInput!) { upsertSchedule(input: $input) { name } }',
    prepare: async (fx) => ({
      variables: { input: { name: fx.unique('sched'), intervalSeconds: 3600, enabled: false, task: { type: 't', payload: {} } } },
    }),
  },
  {
    field: 'setScheduleEnabled',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($name: String!) { setScheduleEnabled(name: $name, enabled: true) { name enabled } }',
    prepare: async (fx) => ({ variables: { name: await fx.schedule() } }),
  },
  {
    field: 'deleteSchedule',
    kind: 'mutation',
    allowed: ADMIN,
    document: 'mutation M($name: String!) { deleteSchedule(name: $name) }',
    prepare: async (fx) => ({ variables: { name: await fx.schedule() } }),
  },
  // ------------------------------------------------------------ subscriptions: everyone who is authenticated
  {
    field: 'taskUpdated',
    kind: 'subscription',
    allowed: ALL,
    document: 'subscription S($id: ID!) { taskUpdated(id: $id) { id status } }',
    prepare: async (fx) => ({ variables: { id: String((await fx.queuedTask()).id) } }),
  },
  {
    field: 'taskLogAdded',
    kind: 'subscription',
    allowed: ALL,
    document: 'subscription S($taskId: ID!) { taskLogAdded(taskId: $taskId) { id message } }',
    prepare: async (fx) => {
      const task = await fx.queuedTask();
      return {
        variables: { taskId: String(task.id) },
        trigger: () => fx.store.appendLog({ taskId: task.id, level: 'INFO', message: 'tick' }),
      };
    },
  },
  {
    field: 'workerUpdated',
    kind: 'subscription',
    allowed: ALL,
    document: 'subscription S { workerUpdated { id } }',
    prepare: async (fx) => ({ trigger: () => fx.store.heartbeat({ workerId: fx.unique('wk') }) }),
  },
  {
    field: 'taskEvents',
    kind: 'subscription',
    allowed: ALL,
    document: 'subscription S($after: String) { taskEvents(after: $after) { cursor kind } }',
    prepare: async (fx) => {
      await fx.queuedTask();
      return { variables: { after: '0' } };
    },
  },
  {
    field: 'queueStatsUpdated',
    kind: 'subscription',
    allowed: ALL,
    document: 'subscription S { queueStatsUpdated { activeWorkers } }',
    prepare: async () => ({}),
  },
];

export const PRINCIPALS: Principal[] = ['admin', 'producer', 'worker', 'viewer'];

/** The principal that acts for each role in the matrix. */
export const ACTS_AS: Record<Role, Principal> = { admin: 'admin', producer: 'producer', worker: 'worker', viewer: 'viewer' };

/** Every (operation, role) pair the scopes refuse. */
export function deniedPairs(): { op: OpSpec; role: Role }[] {
  const roles: Role[] = ['admin', 'producer', 'worker', 'viewer'];
  return OPS.flatMap((op) => roles.filter((r) => !op.allowed.includes(r)).map((role) => ({ op, role })));
}

/** Every (operation, role) pair the scopes allow. */
export function allowedPairs(): { op: OpSpec; role: Role }[] {
  return OPS.flatMap((op) => op.allowed.map((role) => ({ op, role })));
}

/** The transports an operation can be called over: subscriptions are not served as plain JSON POSTs. */
export function transportsFor(op: OpSpec): ('http' | 'ws' | 'sse')[] {
  return op.kind === 'subscription' ? ['ws', 'sse'] : ['http', 'ws', 'sse'];
}
