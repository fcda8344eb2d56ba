import type { QueuePause, QueueStats, TaskStore } from '../../store/index.js';
import { builder } from '../builder.js';
import { coalescedChanges, mapStream } from '../subscriptions.js';
import { TaskStatusEnum } from './enums.js';

const StatusCount = builder.objectRef<QueueStats['counts'][number]>('StatusCount').implement({
  fields: (t) => ({ status: t.expose('status', { type: TaskStatusEnum }), count: t.exposeInt('count') }),
});

const TypeStats = builder.objectRef<QueueStats['byType'][number]>('TypeStats').implement({
  fields: (t) => ({
    type: t.exposeString('type'),
    queued: t.exposeInt('queued'),
    running: t.exposeInt('running'),
    succeeded: t.exposeInt('succeeded'),
    failed: t.exposeInt('failed'),
  }),
});

/** The pauses read once per stats object: `paused` and `pausedTypes` of one answer share the read. */
const pausesRead = new WeakMap<QueueStats, Promise<QueuePause[]>>();
function pausesFor(s: QueueStats, store: TaskStore): Promise<QueuePause[]> {
  let read = pausesRead.get(s);
  if (!read) pausesRead.set(s, (read = store.listPauses()));
  return read;
}

const QueueStatsRef = builder.objectRef<QueueStats>('QueueStats').implement({
  fields: (t) => ({
    queue: t.exposeString('queue', { nullable: true }),
    counts: t.field({ type: [StatusCount], resolve: (s) => s.counts }),
    byType: t.field({ type: [TypeStats], resolve: (s) => s.byType }),
    oldestQueuedAgeSeconds: t.exposeFloat('oldestQueuedAgeSeconds', { nullable: true }),
    activeWorkers: t.exposeInt('activeWorkers'),
    succeededLastMinute: t.exposeInt('succeededLastMinute'),
    failedLastMinute: t.exposeInt('failedLastMinute'),
    paused: t.boolean({
      description: 'Whether the whole queue is paused (false for the stats of every queue).',
      resolve: async (s, _args, ctx) => s.queue !== null && (await pausesFor(s, ctx.store)).some((p) => p.queue === s.queue && p.type === null),
    }),
    pausedTypes: t.stringList({
      description: 'The types paused in this queue (in every queue, for the stats of every queue).',
      resolve: async (s, _args, ctx) =>
        (await pausesFor(s, ctx.store)).filter((p) => p.type !== null && (s.queue === null || p.queue === s.queue)).map((p) => p.type!),
    }),
  }),
});

builder.queryFields((t) => ({
  queueStats: t.field({
    type: QueueStatsRef,
    args: { queue: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.store.stats(args.queue),
  }),
}));

builder.subscriptionFields((t) => ({
  queueStatsUpdated: t.field({
    type: QueueStatsRef,
    description: 'Stats now, then after changes: at most a few times a second, however busy the queue.',
    args: { queue: t.arg.string() },
    subscribe: (_root, args, ctx) => {
      // Subscribed before the first read; a burst of changes becomes one read per gap.
      const changes = coalescedChanges(
        ctx.bus,
        (e) => !args.queue || e.queue === args.queue || e.kind === 'WORKER_UPDATED',
        1000 / ctx.limits.statsPerSecond,
      );
      const read = () => ctx.store.stats(args.queue);
      return mapStream(changes, read, read);
    },
    resolve: (s: QueueStats) => s,
  }),
}));
