import { z } from 'zod';
import type { ClaimedTask, LeaseState, Task } from '../../store/index.js';
import { DEFAULTS, LIMITS, TaskwireError } from '../../store/index.js';
import { builder } from '../builder.js';
import { checkWorkerId, leaseHolder } from '../auth.js';
import { parseTaskId, taskGlobalId } from '../ids.js';
import { ClaimStrategyEnum } from './enums.js';
import { TaskRef } from './task.js';
import { WorkerRef } from './worker.js';

export const ClaimedTaskRef = builder.objectRef<ClaimedTask>('ClaimedTask').implement({
  description: 'A claimed task and the lease token that every later call about it must present.',
  fields: (t) => ({
    task: t.field({ type: TaskRef, resolve: (c) => c.task }),
    leaseToken: t.exposeString('leaseToken'),
    leaseUntil: t.expose('leaseUntil', { type: 'DateTime' }),
  }),
});

const LeaseStateRef = builder.objectRef<LeaseState>('LeaseState').implement({
  fields: (t) => ({
    taskId: t.id({ resolve: (l) => taskGlobalId(l.taskId) }),
    leaseUntil: t.expose('leaseUntil', { type: 'DateTime', nullable: true }),
    cancelRequested: t.exposeBoolean('cancelRequested'),
    lost: t.exposeBoolean('lost'),
  }),
});

const HeartbeatPayload = builder.objectRef<{ worker: import('../../store/index.js').Worker; leases: LeaseState[] }>(
  'HeartbeatPayload',
).implement({
  fields: (t) => ({
    worker: t.field({ type: WorkerRef, resolve: (p) => p.worker }),
    leases: t.field({ type: [LeaseStateRef], resolve: (p) => p.leases }),
  }),
});

const ClaimTasksInput = builder.inputType('ClaimTasksInput', {
  fields: (t) => ({
    workerId: t.string({ required: true }),
    queue: t.string({ description: 'Default "default".' }),
    types: t.stringList({ description: 'Only these task types.' }),
    capabilities: t.field({ type: 'JSON', description: "Matched against each task's compatibility (region, formats)." }),
    limit: t.int({ description: 'Default 1.' }),
    leaseSeconds: t.int({ description: 'Default 30.' }),
    strategy: t.field({ type: ClaimStrategyEnum, description: 'Default PRIORITY.' }),
    waitSeconds: t.int({
      description: 'Long-poll: hold the request until work arrives or this passes.',
      validate: z.number().int().min(0),
    }),
  }),
});

const LeaseInput = builder.inputType('LeaseInput', {
  fields: (t) => ({ taskId: t.id({ required: true }), leaseToken: t.string({ required: true }) }),
});
const HeartbeatInput = builder.inputType('HeartbeatInput', {
  fields: (t) => ({
    workerId: t.string({ required: true }),
    leases: t.field({ type: [LeaseInput] }),
    extendSeconds: t.int(),
    capabilities: t.field({ type: 'JSON' }),
  }),
});
const CompleteTaskInput = builder.inputType('CompleteTaskInput', {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    leaseToken: t.string({ required: true }),
    result: t.field({ type: 'JSON' }),
  }),
});
const FailTaskInput = builder.inputType('FailTaskInput', {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    leaseToken: t.string({ required: true }),
    error: t.string({ required: true }),
    retryable: t.boolean({ description: 'Default true; false sends the task straight to FAILED.' }),
    retryAfterSeconds: t.int({ description: 'Overrides the backoff for this retry.' }),
  }),
});
const ReportProgressInput = builder.inputType('ReportProgressInput', {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    leaseToken: t.string({ required: true }),
    progress: t.float({ required: true }),
    message: t.string(),
  }),
});

const MetadataModeEnum = builder.enumType('MetadataMode', {
  values: {
    MERGE: { description: 'JSON Merge Patch: objects merge key by key, a null removes its key.' },
    SET: { description: 'Replaces the whole object.' },
  } as const,
});

const UpdateTaskMetadataInput = builder.inputType('UpdateTaskMetadataInput', {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    leaseToken: t.string({ required: true }),
    metadata: t.field({ type: 'JSON', required: true }),
    mode: t.field({ type: MetadataModeEnum, description: 'Default MERGE.' }),
  }),
});

builder.mutationFields((t) => ({
  updateTaskMetadata: t.field({
    skipTypeScopes: true,
    authScopes: { worker: true },
    type: TaskRef,
    description: "The lease holder sets or merges its task's metadata (at most 64 KB); subscribers see a METADATA event.",
    args: { input: t.arg({ type: UpdateTaskMetadataInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.store.updateMetadata({ ...input, metadata: input.metadata, taskId: parseTaskId(input.taskId, 'taskId'), holder: leaseHolder(ctx), mode: input.mode ?? 'MERGE' }),
  }),
  claimTasks: t.field({
    skipTypeScopes: true,
    authScopes: { worker: true },
    type: [ClaimedTaskRef],
    args: { input: t.arg({ type: ClaimTasksInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      checkWorkerId(ctx, input.workerId);
      const { waitSeconds, ...claim } = input;
      const deadline = Date.now() + Math.min(waitSeconds ?? 0, ctx.limits.maxWaitSeconds) * 1000;
      const queue = claim.queue ?? DEFAULTS.queue;
      for (;;) {
        const started = performance.now();
        const claimed = await ctx.store.claim(claim);
        ctx.metrics?.claimLatency.observe({ queue }, (performance.now() - started) / 1000);
        if (claimed.length > 0) return claimed;
        const left = deadline - Date.now();
        if (left <= 0) return claimed;
        // A client that went away must not be handed a task it will never see.
        if ((await ctx.waiters.wait(queue, left, ctx.signal ?? undefined)) === 'closed' || ctx.signal?.aborted) return [];
      }
    },
  }),
  heartbeat: t.field({
    skipTypeScopes: true,
    authScopes: { worker: true },
    type: HeartbeatPayload,
    args: { input: t.arg({ type: HeartbeatInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      checkWorkerId(ctx, input.workerId);
      return ctx.store.heartbeat({
        ...input,
        leases: input.leases?.map((l) => ({ taskId: parseTaskId(l.taskId, 'taskId'), leaseToken: l.leaseToken })),
      });
    },
  }),
  reportProgress: t.field({
    skipTypeScopes: true,
    authScopes: { worker: true },
    type: TaskRef,
    args: { input: t.arg({ type: ReportProgressInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.store.reportProgress({ ...input, taskId: parseTaskId(input.taskId, 'taskId'), holder: leaseHolder(ctx) }),
  }),
  completeTask: t.field({
    skipTypeScopes: true,
    authScopes: { worker: true },
    type: TaskRef,
    args: { input: t.arg({ type: CompleteTaskInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.store.complete({ ...input, taskId: parseTaskId(input.taskId, 'taskId'), holder: leaseHolder(ctx) }),
  }),
  completeTasks: t.field({
    skipTypeScopes: true,
    authScopes: { worker: true },
    type: [TaskRef],
    description: 'Acknowledges many tasks in one transaction: all or none.',
    args: { inputs: t.arg({ type: [CompleteTaskInput], required: true }) },
    resolve: (_root, { inputs }, ctx): Promise<Task[]> => {
      if (inputs.length > LIMITS.batch) throw new TaskwireError('VALIDATION', `completeTasks takes at most ${LIMITS.batch} inputs`, { field: 'inputs' });
      return ctx.store.completeMany(inputs.map((i) => ({ ...i, taskId: parseTaskId(i.taskId, 'taskId'), holder: leaseHolder(ctx) })));
    },
  }),
  failTask: t.field({
    skipTypeScopes: true,
    authScopes: { worker: true },
    type: TaskRef,
    args: { input: t.arg({ type: FailTaskInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.store.fail({ ...input, taskId: parseTaskId(input.taskId, 'taskId'), holder: leaseHolder(ctx) }),
  }),
  releaseTasks: t.field({
    skipTypeScopes: true,
    authScopes: { worker: true },
    type: [TaskRef],
    description:
      'Gives claimed tasks that never started back to the queue (a stopping worker\'s prefetched tasks): QUEUED at once, the attempt not counted; a task whose cancel was requested is CANCELLED instead. Leases no longer current are skipped; the answer lists the tasks changed. One transaction.',
    args: { inputs: t.arg({ type: [LeaseInput], required: true }) },
    resolve: (_root, { inputs }, ctx): Promise<Task[]> => {
      if (inputs.length > LIMITS.batch) throw new TaskwireError('VALIDATION', `releaseTasks takes at most ${LIMITS.batch} inputs`, { field: 'inputs' });
      return ctx.store.release(inputs.map((i) => ({ taskId: parseTaskId(i.taskId, 'taskId'), leaseToken: i.leaseToken, holder: leaseHolder(ctx) })));
    },
  }),
  failTasks: t.field({
    skipTypeScopes: true,
    authScopes: { worker: true },
    type: [TaskRef],
    description: 'Fails many attempts in one transaction: all or none. Each is retried, failed or cancelled as failTask would.',
    args: { inputs: t.arg({ type: [FailTaskInput], required: true }) },
    resolve: (_root, { inputs }, ctx): Promise<Task[]> => {
      if (inputs.length > LIMITS.batch) throw new TaskwireError('VALIDATION', `failTasks takes at most ${LIMITS.batch} inputs`, { field: 'inputs' });
      return ctx.store.failMany(inputs.map((i) => ({ ...i, taskId: parseTaskId(i.taskId, 'taskId'), holder: leaseHolder(ctx) })));
    },
  }),
}));
