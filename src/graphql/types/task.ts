import { z } from 'zod';
import type { BulkResult, Task } from '../../store/index.js';
import { DEFAULTS, LIMITS, TaskwireError } from '../../store/index.js';
import { builder } from '../builder.js';
import { parseTaskId, taskGlobalId } from '../ids.js';
import { OrderDirection, TaskStatusEnum } from './enums.js';
import { TASK_EVENT_KINDS, liveEvents, mapStream } from '../subscriptions.js';

const positiveId = (id: string) => {
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n < 1) throw new TaskwireError('VALIDATION', 'not a task id');
  return n;
};

export const TaskRef = builder.loadableNode('Task', {
  description: 'One unit of work: a type, a JSON payload, and where it stands.',
  id: { resolve: (t: Task) => t.id, parse: positiveId },
  // No cache: a subscription keeps its context for its whole life, and every event must
  // read fresh state. Loads are still batched within a tick.
  loaderOptions: { cache: false },
  load: async (ids: number[], ctx) => {
    const tasks = await ctx.store.getTasks(ids);
    return tasks.map((t, i) => t ?? new TaskwireError('NOT_FOUND', `task ${ids[i]} does not exist`));
  },
  fields: (t) => ({
    queue: t.exposeString('queue'),
    type: t.exposeString('type'),
    priority: t.exposeInt('priority', { description: `Lower numbers run first; the default is ${DEFAULTS.priority}.` }),
    payload: t.expose('payload', { type: 'JSON' }),
    compatibility: t.expose('compatibility', {
      type: 'JSON',
      description: 'Worker-matching requirements, e.g. {"region": "eu-west"}.',
    }),
    region: t.exposeString('region', { nullable: true, description: 'compatibility.region (a generated, indexed column).' }),
    format: t.exposeString('format', { nullable: true, description: 'payload.format (a generated, indexed column).' }),
    status: t.expose('status', { type: TaskStatusEnum }),
    attempts: t.exposeInt('attempts'),
    maxAttempts: t.exposeInt('maxAttempts'),
    runAfter: t.expose('runAfter', { type: 'DateTime' }),
    leaseUntil: t.expose('leaseUntil', { type: 'DateTime', nullable: true }),
    progress: t.exposeFloat('progress', { nullable: true, description: '0..1, reported by the worker.' }),
    progressMessage: t.exposeString('progressMessage', { nullable: true }),
    result: t.expose('result', { type: 'JSON', nullable: true }),
    metadata: t.expose('metadata', {
      type: 'JSON',
      nullable: true,
      description: 'Structured state its worker reports while it runs (updateTaskMetadata); kept across attempts.',
    }),
    errorMessage: t.exposeString('errorMessage', { nullable: true }),
    cancelRequested: t.exposeBoolean('cancelRequested'),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    correlationId: t.exposeString('correlationId', { nullable: true }),
    timeoutSeconds: t.exposeInt('timeoutSeconds', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

async function loadTaskLists(ctx: { store: { getTasks(ids: readonly number[]): Promise<(Task | null)[]> } }, lists: number[][]) {
  const all = [...new Set(lists.flat())];
  const tasks = all.length ? await ctx.store.getTasks(all) : [];
  const byId = new Map(all.map((id, i) => [id, tasks[i]]));
  return lists.map((ids) => ids.map((id) => byId.get(id)).filter((t): t is Task => !!t));
}

builder.objectFields(TaskRef, (t) => ({
    dependsOn: t.loadableList({
      type: TaskRef,
      description: 'The tasks this one waits for.',
      loaderOptions: { cache: false },
      load: (ids: number[], ctx) => ctx.store.dependencyIds(ids).then((lists) => loadTaskLists(ctx, lists)),
      resolve: (task) => task.id,
    }),
    dependents: t.loadableList({
      type: TaskRef,
      description: 'The tasks that wait for this one.',
      loaderOptions: { cache: false },
      load: (ids: number[], ctx) => ctx.store.dependentIds(ids).then((lists) => loadTaskLists(ctx, lists)),
      resolve: (task) => task.id,
    }),
}));

export const TaskConnection = builder.connectionObject(
  { type: TaskRef, name: 'TaskConnection' },
  { name: 'TaskEdge' },
);
builder.objectField(TaskConnection, 'totalCount', (t) =>
  t.int({
    description: 'How many tasks match the filter (counted only when asked for).',
    resolve: (conn, _args, ctx) => ctx.store.countTasks((conn as unknown as { filter: never }).filter),
  }),
);

export const TaskFilterInput = builder.inputType('TaskFilter', {
  fields: (t) => ({
    status: t.field({ type: [TaskStatusEnum] }),
    queue: t.string(),
    type: t.stringList(),
    region: t.stringList({ description: 'Served by the index on the generated region column.' }),
    format: t.stringList({ description: 'Served by the index on the generated format column.' }),
    correlationId: t.string(),
    idempotencyKey: t.string(),
    createdAfter: t.field({ type: 'DateTime' }),
    createdBefore: t.field({ type: 'DateTime' }),
  }),
});

export const TaskOrderField = builder.enumType('TaskOrderField', { values: ['CREATED_AT', 'PRIORITY', 'UPDATED_AT'] as const });
export const TaskOrderInput = builder.inputType('TaskOrder', {
  fields: (t) => ({
    field: t.field({ type: TaskOrderField, required: true }),
    direction: t.field({ type: OrderDirection, required: true }),
  }),
});

builder.queryFields((t) => ({
  task: t.field({
    type: TaskRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.store.getTask(parseTaskId(args.id)),
  }),
  tasks: t.field({
    type: TaskConnection,
    description: 'Tasks, newest first unless orderBy says otherwise; keyset-paginated.',
    args: {
      filter: t.arg({ type: TaskFilterInput }),
      orderBy: t.arg({ type: TaskOrderInput }),
      first: t.arg.int({ validate: z.number().int().min(0).max(LIMITS.pageSize) }),
      after: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const page = await ctx.store.listTasks({
        filter: args.filter,
        orderBy: args.orderBy,
        first: args.first,
        after: args.after,
      });
      const edges = page.items;
      return {
        filter: args.filter,
        edges,
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: !!args.after,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges[edges.length - 1]?.cursor ?? null,
        },
      };
    },
  }),
}));

const BulkResultRef = builder.objectRef<BulkResult>('BulkResult').implement({
  description: 'What a bulk action did. With hasMore, call again with `after` to go on.',
  fields: (t) => ({
    changed: t.exposeInt('changed', { description: 'Tasks cancelled, retried or deleted.' }),
    skipped: t.exposeInt('skipped', { description: 'Tasks read but left alone (changed meanwhile, or asked to cancel already).' }),
    hasMore: t.exposeBoolean('hasMore'),
    after: t.id({ nullable: true, description: 'The last task read: pass it as `after` to go on.', resolve: (r) => (r.lastId === null ? null : taskGlobalId(r.lastId)) }),
  }),
});

/** One bulk mutation: at most `limit` of the tasks `filter` matches, after `after`. */
function bulkField(t: Parameters<Parameters<typeof builder.mutationFields>[0]>[0], action: 'cancel' | 'retry' | 'delete', description: string) {
  return t.field({
    type: BulkResultRef,
    description,
    args: { filter: t.arg({ type: TaskFilterInput, required: true }), limit: t.arg.int(), after: t.arg.id() },
    resolve: (_root, args, ctx) =>
      ctx.store.bulk(action, args.filter, { limit: args.limit ?? null, after: args.after ? parseTaskId(args.after, 'after') : null }),
  });
}

const UpdateTaskInput = builder.inputType('UpdateTaskInput', {
  fields: (t) => ({
    payload: t.field({ type: 'JSON' }),
    priority: t.int(),
    runAfter: t.field({ type: 'DateTime' }),
    maxAttempts: t.int(),
  }),
});

builder.mutationFields((t) => ({
  cancelTask: t.field({
    type: TaskRef,
    description: 'QUEUED or BLOCKED: CANCELLED at once. RUNNING: cancelRequested, CANCELLED when its worker stops.',
    // Producers cancel only what they enqueued; admins cancel anything.
    skipTypeScopes: true,
    authScopes: { producer: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: (_root, args, ctx) =>
      ctx.store.cancel(parseTaskId(args.id), args.reason, ctx.principal.role === 'producer' ? ctx.principal.tokenId : null),
  }),
  cancelTasks: bulkField(t, 'cancel', 'Cancels the QUEUED, BLOCKED and RUNNING tasks the filter matches (at most limit, default 500, per call), as cancelTask would.'),
  retryTasks: bulkField(t, 'retry', 'Retries the FAILED and CANCELLED tasks the filter matches (at most limit per call), as retryTask would.'),
  deleteTasks: bulkField(t, 'delete', 'Deletes the finished tasks the filter matches (at most limit per call), with their logs.'),
  updateTask: t.field({
    type: TaskRef,
    description:
      'Changes a QUEUED, BLOCKED or FAILED task: the fields given (payload, priority, runAfter, maxAttempts) change, the others stay; an UPDATED event says so. A RUNNING or finished task: INVALID_STATE.',
    // Producers edit only what they enqueued, as they cancel; admins edit anything.
    skipTypeScopes: true,
    authScopes: { producer: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateTaskInput, required: true }) },
    resolve: (_root, { id, input }, ctx) =>
      ctx.store.update(
        parseTaskId(id),
        { payload: input.payload ?? null, priority: input.priority ?? null, runAfter: input.runAfter ?? null, maxAttempts: input.maxAttempts ?? null },
        ctx.principal.role === 'producer' ? ctx.principal.tokenId : null,
      ),
  }),
  retryTask: t.field({
    type: TaskRef,
    description: 'FAILED or CANCELLED back to QUEUED, attempts reset; with payload, with that payload.',
    args: { id: t.arg.id({ required: true }), payload: t.arg({ type: 'JSON', description: 'Run it with this payload instead (a fix for what made it fail).' }) },
    resolve: (_root, args, ctx) => ctx.store.retry(parseTaskId(args.id), { payload: args.payload ?? null }),
  }),
}));

builder.subscriptionFields((t) => ({
  taskUpdated: t.field({
    type: TaskRef,
    description: 'The task now, then again after every change (progress included).',
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const id = parseTaskId(args.id);
      // Subscribe before reading the current state, so no change in between is missed.
      const live = liveEvents(ctx, (e) => e.taskId === id && TASK_EVENT_KINDS.has(e.kind));
      const first = await ctx.store.getTask(id);
      if (!first) {
        live.end();
        throw new TaskwireError('NOT_FOUND', `task ${id} does not exist`);
      }
      // Several events may be folded into one read: skip reads that show nothing new.
      let last = JSON.stringify(first);
      return mapStream(
        live,
        async () => {
          const task = await ctx.store.getTask(id);
          const key = task ? JSON.stringify(task) : last;
          if (!task || key === last) return undefined;
          last = key;
          return task;
        },
        async () => first,
      );
    },
    resolve: (task: Task) => task,
  }),
}));
