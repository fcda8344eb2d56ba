import { z } from 'zod';
import type { ConcurrencyLimit } from '../../store/index.js';
import { builder } from '../builder.js';

const ConcurrencyLimitRef = builder.objectRef<ConcurrencyLimit>('ConcurrencyLimit').implement({
  description: 'At most `limit` tasks RUNNING at once in a queue, or of a type within a queue.',
  fields: (t) => ({
    queue: t.exposeString('queue'),
    type: t.exposeString('type', { nullable: true }),
    limit: t.exposeInt('limit', { nullable: true }),
  }),
});

const ConcurrencyLimitInput = builder.inputType('ConcurrencyLimitInput', {
  fields: (t) => ({
    queue: t.string({ required: true }),
    type: t.string(),
    limit: t.int({ description: 'null removes the limit.', validate: z.number().int().min(0) }),
  }),
});

builder.queryFields((t) => ({
  concurrencyLimits: t.field({ type: [ConcurrencyLimitRef], resolve: (_root, _args, ctx) => ctx.store.listConcurrencyLimits() }),
}));

builder.mutationFields((t) => ({
  setConcurrencyLimit: t.field({
    type: ConcurrencyLimitRef,
    args: { input: t.arg({ type: ConcurrencyLimitInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.store.setConcurrencyLimit({ queue: input.queue, type: input.type ?? null, limit: input.limit ?? null }),
  }),
}));
