import type { Page, TaskLog } from '../../store/index.js';
import { DEFAULTS, LIMITS, TaskwireError } from '../../store/index.js';
import { z } from 'zod';
import { builder } from '../builder.js';
import { LogLevelEnum } from './enums.js';
import { leaseHolder } from '../auth.js';
import { parseTaskId } from '../ids.js';
import { liveEvents, mapStream } from '../subscriptions.js';
import { TaskRef } from './task.js';

export const TaskLogRef = builder.loadableNode('TaskLog', {
  id: {
    resolve: (l: TaskLog) => l.id,
    parse: (id: string) => {
      const n = Number(id);
      if (!Number.isSafeInteger(n) || n < 1) throw new TaskwireError('VALIDATION', 'not a task log id');
      return n;
    },
  },
  loaderOptions: { cache: false },
  load: async (ids: number[], ctx) => {
    const logs = await Promise.all(ids.map((id) => ctx.store.getLog(id)));
    return logs.map((l, i) => l ?? new TaskwireError('NOT_FOUND', `task log ${ids[i]} does not exist`));
  },
  fields: (t) => ({
    task: t.field({ type: TaskRef, resolve: (log) => log.taskId }),
    at: t.expose('at', { type: 'DateTime' }),
    level: t.expose('level', { type: LogLevelEnum }),
    message: t.exposeString('message'),
    details: t.expose('details', { type: 'JSON', nullable: true }),
  }),
});

export const TaskLogConnection = builder.connectionObject({ type: TaskLogRef, name: 'TaskLogConnection' }, { name: 'TaskLogEdge' });

/** A store page as a Relay connection value. */
export function logsPage(page: Page<TaskLog>) {
  return {
    edges: page.items,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: false,
      startCursor: page.items[0]?.cursor ?? null,
      endCursor: page.items[page.items.length - 1]?.cursor ?? null,
    },
  };
}

function logCursor(id: number): string {
  return Buffer.from(JSON.stringify([id])).toString('base64url');
}

builder.objectField(TaskRef, 'logs', (t) =>
  t.loadable({
      type: TaskLogConnection,
      byPath: true,
      args: {
        first: t.arg.int({ validate: z.number().int().min(0).max(LIMITS.pageSize) }),
        after: t.arg.string(),
      },
      loaderOptions: { cache: false },
      // Every task at the same path shares its arguments, so one query serves them all.
      load: async (ids: number[], ctx, args) => {
        const first = args.first ?? DEFAULTS.pageSize;
        if (args.after) return Promise.all(ids.map((id) => ctx.store.listLogs(id, { first, after: args.after }).then(logsPage)));
        const lists = await ctx.store.logsForTasks(ids, first + 1);
        return lists.map((logs) =>
          logsPage({
            items: logs.slice(0, first).map((node) => ({ cursor: logCursor(node.id), node })),
            hasNextPage: logs.length > first,
          }),
        );
      },
      resolve: (task) => task.id,
    })
);

const AppendTaskLogInput = builder.inputType('AppendTaskLogInput', {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    level: t.field({ type: LogLevelEnum, required: true }),
    message: t.string({ required: true }),
    details: t.field({ type: 'JSON' }),
    leaseToken: t.string({ description: 'When given, the log is accepted only while this lease is held.' }),
  }),
});

builder.mutationFields((t) => ({
  appendTaskLog: t.field({
    type: TaskLogRef,
    skipTypeScopes: true,
    authScopes: { worker: true },
    args: { input: t.arg({ type: AppendTaskLogInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.store.appendLog({ ...input, taskId: parseTaskId(input.taskId, 'taskId'), holder: leaseHolder(ctx) }),
  }),
}));

builder.subscriptionFields((t) => ({
  taskLogAdded: t.field({
    type: TaskLogRef,
    args: { taskId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => {
      const taskId = parseTaskId(args.taskId, 'taskId');
      const live = liveEvents(ctx, (e) => e.kind === 'LOG_ADDED' && e.taskId === taskId);
      return mapStream(live, async (e) => (await ctx.store.getLog(e.logId!)) ?? undefined);
    },
    resolve: (log: TaskLog) => log,
  }),
}));
