import type { QueuePause } from '../../store/index.js';
import { builder } from '../builder.js';

export const QueuePauseRef = builder.objectRef<QueuePause>('QueuePause').implement({
  description: 'A queue, or one type in it, paused or not. A paused one takes enqueues and hands out no claims.',
  fields: (t) => ({
    queue: t.exposeString('queue'),
    type: t.exposeString('type', { nullable: true, description: 'null: the whole queue.' }),
    paused: t.exposeBoolean('paused'),
    pausedAt: t.expose('pausedAt', { type: 'DateTime', nullable: true }),
  }),
});

const QueuePauseInput = builder.inputType('QueuePauseInput', {
  fields: (t) => ({
    queue: t.string({ required: true }),
    type: t.string({ description: 'Only this type in the queue; leave it out for the whole queue.' }),
  }),
});

builder.queryFields((t) => ({
  pausedQueues: t.field({
    type: [QueuePauseRef],
    description: 'Every pause in force, by queue and type.',
    resolve: (_root, _args, ctx) => ctx.store.listPauses(),
  }),
}));

builder.mutationFields((t) => ({
  pauseQueue: t.field({
    type: QueuePauseRef,
    description: 'Stops claims of the queue (or of one type in it) from handing tasks out; enqueues go on. Idempotent.',
    args: { input: t.arg({ type: QueuePauseInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.store.pauseQueue({ queue: input.queue, type: input.type ?? null }),
  }),
  resumeQueue: t.field({
    type: QueuePauseRef,
    description: 'Hands the queue (or the type) out again; long-polling workers wake at once. Idempotent.',
    args: { input: t.arg({ type: QueuePauseInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.store.resumeQueue({ queue: input.queue, type: input.type ?? null }),
  }),
}));
