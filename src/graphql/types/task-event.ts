import type { StoredEvent, Task } from '../../store/index.js';
import { TaskwireError } from '../../store/index.js';
import { builder } from '../builder.js';
import { eventMatches, replayThenLive, taskMatches } from '../subscriptions.js';
import { TaskEventKindEnum } from './enums.js';
import { TaskFilterInput, TaskRef } from './task.js';

interface TaskEventValue {
  event: StoredEvent;
  task: Task;
}

const TaskEventRef = builder.objectRef<TaskEventValue>('TaskEvent').implement({
  fields: (t) => ({
    cursor: t.string({
      description: 'Resume point: pass it back as `after` to miss nothing.',
      resolve: (v) => String(v.event.id),
    }),
    kind: t.field({ type: TaskEventKindEnum, resolve: (v) => v.event.kind as never }),
    at: t.field({ type: 'DateTime', resolve: (v) => v.event.at }),
    task: t.field({ type: TaskRef, resolve: (v) => v.task }),
  }),
});

function parseCursor(after: string | null | undefined): number | null {
  if (after === null || after === undefined) return null;
  if (!/^\d{1,15}$/.test(after)) throw new TaskwireError('VALIDATION', 'after is not an event cursor', { field: 'after' });
  return Number(after);
}

builder.subscriptionFields((t) => ({
  taskEvents: t.field({
    type: TaskEventRef,
    description: 'Task events. With `after`, replays the outbox after that cursor first, then goes live.',
    args: { filter: t.arg({ type: TaskFilterInput }), after: t.arg.string() },
    subscribe: async function* (_root, args, ctx) {
      const after = parseCursor(args.after);
      const accept = (e: StoredEvent) => eventMatches(args.filter, e);
      const source = after === null ? replayThenLive(ctx, ctx.bus.lastPublishedId, accept) : replayThenLive(ctx, after, accept);
      for await (const event of source) {
        const task = await ctx.store.getTask(event.taskId!);
        if (task && taskMatches(args.filter, task)) yield { event, task };
      }
    },
    resolve: (v: TaskEventValue) => v,
  }),
}));
