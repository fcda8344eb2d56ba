import { z } from 'zod';
import type { Schedule } from '../../store/index.js';
import { builder } from '../builder.js';
import { TaskRef } from './task.js';

const ScheduleRef = builder.node(builder.objectRef<Schedule>('Schedule'), {
  description: 'A recurring task: each fire of its cron expression or interval enqueues one task, exactly once.',
  id: { resolve: (s) => s.name },
  loadOne: async (name, ctx) => (await ctx.store.listSchedules()).find((s) => s.name === name) ?? null,
  fields: (t) => ({
    name: t.exposeString('name'),
    cron: t.exposeString('cron', { nullable: true }),
    intervalSeconds: t.exposeInt('intervalSeconds', { nullable: true }),
    timezone: t.exposeString('timezone'),
    enabled: t.exposeBoolean('enabled'),
    taskType: t.string({ resolve: (s) => s.task.type }),
    taskTemplate: t.field({ type: 'JSON', description: 'The task each fire enqueues.', resolve: (s) => s.task }),
    nextRunAt: t.expose('nextRunAt', { type: 'DateTime', nullable: true }),
    lastRunAt: t.expose('lastRunAt', { type: 'DateTime', nullable: true }),
    lastTask: t.field({
      type: TaskRef,
      nullable: true,
      description: 'The task of the last fire; null once retention has removed it.',
      resolve: (s, _args, ctx) => (s.lastTaskId === null ? null : ctx.store.getTask(s.lastTaskId)),
    }),
  }),
});

const TaskTemplateInput = builder.inputType('TaskTemplateInput', {
  fields: (t) => ({
    type: t.string({ required: true }),
    payload: t.field({ type: 'JSON', required: true }),
    queue: t.string(),
    priority: t.int(),
    compatibility: t.field({ type: 'JSON' }),
    maxAttempts: t.int(),
    timeoutSeconds: t.int(),
  }),
});

const UpsertScheduleInput = builder.inputType('UpsertScheduleInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    cron: t.string({ description: 'e.g. "*/5 * * * *"; exactly one of cron and intervalSeconds.' }),
    intervalSeconds: t.int({ validate: z.number().int().min(1) }),
    timezone: t.string({ description: 'IANA name, default UTC.' }),
    enabled: t.boolean(),
    task: t.field({ type: TaskTemplateInput, required: true }),
  }),
});

builder.queryFields((t) => ({
  schedules: t.field({ type: [ScheduleRef], resolve: (_root, _args, ctx) => ctx.store.listSchedules() }),
}));

builder.mutationFields((t) => ({
  upsertSchedule: t.field({
    type: ScheduleRef,
    args: { input: t.arg({ type: UpsertScheduleInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.store.upsertSchedule({ ...input, task: { ...input.task, payload: input.task.payload } }),
  }),
  setScheduleEnabled: t.field({
    type: ScheduleRef,
    args: { name: t.arg.string({ required: true }), enabled: t.arg.boolean({ required: true }) },
    resolve: (_root, args, ctx) => ctx.store.setScheduleEnabled(args.name, args.enabled),
  }),
  deleteSchedule: t.boolean({
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.store.deleteSchedule(args.name),
  }),
}));
