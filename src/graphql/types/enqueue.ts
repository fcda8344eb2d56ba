import type { EnqueueInput } from '../../store/index.js';
import { DEFAULTS, LIMITS, TaskwireError } from '../../store/index.js';
import { builder } from '../builder.js';
import { parseTaskId } from '../ids.js';
import { DuplicatePolicyEnum } from './enums.js';
import { TaskRef } from './task.js';

export const EnqueueTaskInputRef = builder.inputType('EnqueueTaskInput', {
  fields: (t) => ({
    type: t.string({ required: true }),
    payload: t.field({ type: 'JSON', required: true }),
    queue: t.string({ description: `Default "${DEFAULTS.queue}".` }),
    priority: t.int({ description: `Default ${DEFAULTS.priority}; lower runs first.` }),
    compatibility: t.field({ type: 'JSON', description: 'Default {}.' }),
    runAfter: t.field({ type: 'DateTime', description: 'Default now.' }),
    delaySeconds: t.int(),
    maxAttempts: t.int({ description: `Default ${DEFAULTS.maxAttempts}.` }),
    timeoutSeconds: t.int(),
    idempotencyKey: t.string({ description: 'The same key again returns the existing task, with created = false (see onDuplicate).' }),
    onDuplicate: t.field({
      type: DuplicatePolicyEnum,
      description:
        'When idempotencyKey names a task already. RETURN_EXISTING (default): returned as it is. REPLACE: a still-QUEUED (or BLOCKED) one takes this payload (and priority, if given). DEBOUNCE: that, and its runAfter moves to this enqueue\'s, at most maxDelaySeconds after its first enqueue. A task that started is returned as it is.',
    }),
    maxDelaySeconds: t.int({ description: "DEBOUNCE's cap: the task runs at most this long after its first enqueue." }),
    correlationId: t.string(),
    dependsOn: t.idList({ description: 'The task stays BLOCKED until all of these SUCCEEDED.' }),
  }),
});

type EnqueueArgs = typeof EnqueueTaskInputRef.$inferInput;

function toEnqueueInput(input: EnqueueArgs, createdBy: string | null): EnqueueInput {
  return {
    ...input,
    createdBy,
    payload: input.payload,
    dependsOn: input.dependsOn?.map((id) => parseTaskId(id, 'dependsOn')) ?? null,
  };
}

const EnqueueTaskPayload = builder.simpleObject('EnqueueTaskPayload', {
  fields: (t) => ({
    created: t.boolean({ description: 'False when the idempotency key matched an existing task.' }),
  }),
});
builder.objectField(EnqueueTaskPayload, 'task', (t) =>
  t.field({ type: TaskRef, resolve: (p) => (p as unknown as { task: import('../../store/index.js').Task }).task }),
);

builder.mutationFields((t) => ({
  enqueueTask: t.field({
    type: EnqueueTaskPayload,
    skipTypeScopes: true,
    authScopes: { producer: true },
    args: { input: t.arg({ type: EnqueueTaskInputRef, required: true }) },
    resolve: (_root, args, ctx) => ctx.store.enqueue(toEnqueueInput(args.input, ctx.principal.tokenId)),
  }),
  enqueueTasks: t.field({
    type: [EnqueueTaskPayload],
    description: 'Enqueues every input in one transaction: all or none.',
    skipTypeScopes: true,
    authScopes: { producer: true },
    args: { inputs: t.arg({ type: [EnqueueTaskInputRef], required: true }) },
    resolve: (_root, args, ctx) => {
      if (args.inputs.length > LIMITS.batch) {
        throw new TaskwireError('VALIDATION', `enqueueTasks takes at most ${LIMITS.batch} inputs`, { field: 'inputs' });
      }
      return ctx.store.enqueueMany(args.inputs.map((i) => toEnqueueInput(i, ctx.principal.tokenId)));
    },
  }),
}));
