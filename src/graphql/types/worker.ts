import type { Worker } from '../../store/index.js';
import { TaskwireError } from '../../store/index.js';
import { builder } from '../builder.js';
import { parseWorkerId } from '../ids.js';
import { WorkerStatusEnum } from './enums.js';
import { liveEvents, mapStream } from '../subscriptions.js';
import { TaskRef } from './task.js';

export const WorkerRef = builder.loadableNode('Worker', {
  id: { resolve: (w: Worker) => w.id },
  loaderOptions: { cache: false },
  load: async (ids: string[], ctx) => {
    const workers = await ctx.store.getWorkers(ids);
    return workers.map((w, i) => w ?? new TaskwireError('NOT_FOUND', `worker ${ids[i]} does not exist`));
  },
  fields: (t) => ({
    capabilities: t.expose('capabilities', {
      type: 'JSON',
      description: 'e.g. {"types": ["thumbnail"], "region": "eu-west", "formats": ["png"]}',
    }),
    status: t.expose('status', { type: WorkerStatusEnum }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    heartbeatAt: t.expose('heartbeatAt', { type: 'DateTime' }),
    currentTasks: t.loadableList({
      type: TaskRef,
      description: 'The RUNNING tasks this worker holds leases on.',
      loaderOptions: { cache: false },
      load: (ids: string[], ctx) => ctx.store.tasksLockedBy(ids),
      resolve: (w) => w.id,
    }),
  }),
});

builder.queryFields((t) => ({
  worker: t.field({
    type: WorkerRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.store.getWorker(parseWorkerId(args.id)),
  }),
  workers: t.field({
    type: [WorkerRef],
    args: { status: t.arg({ type: [WorkerStatusEnum] }) },
    resolve: (_root, args, ctx) => ctx.store.listWorkers(args.status),
  }),
}));

builder.objectField(TaskRef, 'lockedBy', (t) =>
  t.loadable({
      description: 'The worker holding the lease while RUNNING; afterwards, the worker that ran the last attempt.',
      type: WorkerRef,
      nullable: true,
      loaderOptions: { cache: false },
      load: async (ids: string[], ctx) => {
        const workers = await ctx.store.getWorkers(ids);
        return workers.map((w, i) => w ?? new TaskwireError('NOT_FOUND', `worker ${ids[i]} does not exist`));
      },
      resolve: (task) => task.lockedBy,
    })
);

builder.subscriptionFields((t) => ({
  workerUpdated: t.field({
    type: WorkerRef,
    description: 'A worker registered, changed status or capabilities.',
    subscribe: (_root, _args, ctx) =>
      mapStream(
        liveEvents(ctx, (e) => e.kind === 'WORKER_UPDATED'),
        async (e) => (await ctx.store.getWorker(e.workerId!)) ?? undefined,
      ),
    resolve: (w: Worker) => w,
  }),
}));
