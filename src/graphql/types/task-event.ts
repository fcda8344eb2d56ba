import type { StoredEvent, Task } from '../../store/index.js';
import { TaskwireError } from '../../store/index.js';
import { builder } from '../builder.js';
import { eventMatches, mapStream, replayThenLive, taskMatches, taskReader } from '../subscriptions.js';
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
    subscribe: (_root, args, ctx) => {
      const after = parseCursor(args.after) ?? ctx.bus.lastPublishedId;
      const source = replayThenLive(ctx, after, (e) => eventMatches(args.filter, e));
      // A fresh read per event (shared by the subscriptions that map it in the same pass),
      // or one read for the events waiting behind it when the subscriber is behind.
      const readTask = taskReader(ctx, source.upcoming);
      return mapStream(source, async (event): Promise<TaskEventValue | undefined> => {
        const task = await readTask(event);
        return task && taskMatches(args.filter, task) ? { event, task } : undefined;
      });
    },
    resolve: (v: TaskEventValue) => v,
  }),
}));

builder.queryFields((t) => ({
  lastEventCursor: t.string({
    description:
      'The newest event cursor. Read it in the same request as a snapshot (e.g. `tasks`), then subscribe to `taskEvents(after:)` with it: nothing between the two is missed.',
    resolve: async (_root, _args, ctx) => String(await ctx.store.lastEventId()),
  }),
}));
