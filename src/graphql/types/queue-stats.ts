import type { QueueStats } from '../../store/index.js';
import { builder } from '../builder.js';
import { liveEvents } from '../subscriptions.js';
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

const QueueStatsRef = builder.objectRef<QueueStats>('QueueStats').implement({
  fields: (t) => ({
    queue: t.exposeString('queue', { nullable: true }),
    counts: t.field({ type: [StatusCount], resolve: (s) => s.counts }),
    byType: t.field({ type: [TypeStats], resolve: (s) => s.byType }),
    oldestQueuedAgeSeconds: t.exposeFloat('oldestQueuedAgeSeconds', { nullable: true }),
    activeWorkers: t.exposeInt('activeWorkers'),
    succeededLastMinute: t.exposeInt('succeededLastMinute'),
    failedLastMinute: t.exposeInt('failedLastMinute'),
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
    subscribe: async function* (_root, args, ctx) {
      const minGapMs = 1000 / ctx.limits.statsPerSecond;
      let last = Date.now();
      yield await ctx.store.stats(args.queue);
      // A change arriving during the quiet gap is folded into the next read: the stream
      // waits out the gap, then reads once for everything that happened.
      for await (const _e of liveEvents(ctx, (e) => !args.queue || e.queue === args.queue || e.kind === 'WORKER_UPDATED')) {
        const wait = last + minGapMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        last = Date.now();
        yield await ctx.store.stats(args.queue);
      }
    },
    resolve: (s: QueueStats) => s,
  }),
}));
