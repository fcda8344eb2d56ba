/** The tasks: `enqueue`, `tasks list`, `tasks show`, `retry` and `cancel`. */
import {
  DEFAULTS,
  DUPLICATE_POLICIES,
  LIMITS,
  TASK_STATUSES,
  notFound,
  type DuplicatePolicy,
  type EnqueueInput,
  type Task,
  type TaskFilter,
  type TaskLog,
  type TaskStatus,
} from '../../store/index.js';
import { UsageError, durationOption, list, parseInteger, parseTaskId, type Commands } from '../command.js';
import { table, taskJson, time, truncate, type Cell } from '../format.js';
import { dbOption, withStore } from '../store.js';

/** --status, --type and --queue: a task filter, for `tasks list` and the bulk commands. */
export const filterOptions = {
  status: { type: 'string', arg: 'S,...', description: `only these statuses: ${TASK_STATUSES.join(', ')}` },
  type: { type: 'string', arg: 't,...', description: 'only these types' },
  queue: { type: 'string', arg: 'name', description: 'only this queue' },
} as const;

export function filterOf(values: Record<string, unknown>): TaskFilter {
  const status = list(values.status as string | undefined)?.map((s) => {
    const up = s.toUpperCase() as TaskStatus;
    if (!TASK_STATUSES.includes(up)) throw new UsageError(`--status: unknown status "${s}" (use ${TASK_STATUSES.join(', ')})`);
    return up;
  });
  return { status, type: list(values.type as string | undefined), queue: (values.queue as string | undefined) ?? null };
}

function onDuplicateOption(value: string | undefined): DuplicatePolicy | null {
  if (value === undefined) return null;
  const policy = value.toUpperCase().replace(/-/g, '_') as DuplicatePolicy;
  if (!DUPLICATE_POLICIES.includes(policy)) throw new UsageError(`--on-duplicate takes ${DUPLICATE_POLICIES.join(', ')} (got "${value}")`);
  return policy;
}

export const taskCommands: Commands = {
  enqueue: {
    summary: 'add a task; prints its id and whether it was created',
    usage: "taskwire enqueue --type <type> --payload '<json object>' [options]",
    options: {
      type: { type: 'string', arg: 'type', description: 'what to run (workers claim by type)' },
      payload: { type: 'string', arg: 'json', description: 'what to run it on: a JSON object, e.g. \'{"url":"a.png"}\'' },
      queue: { type: 'string', arg: 'name', description: `queue (default: ${DEFAULTS.queue})` },
      priority: { type: 'string', arg: 'n', description: `lower runs first (default: ${DEFAULTS.priority})` },
      delay: { type: 'string', arg: 'duration', description: 'run no sooner than this from now: 30s, 15m, 12h, 7d' },
      'max-attempts': { type: 'string', arg: 'n', description: `attempts before the task FAILs (default: ${DEFAULTS.maxAttempts})` },
      'idempotency-key': { type: 'string', arg: 'key', description: 'a second enqueue with this key returns the first task' },
      'on-duplicate': {
        type: 'string',
        arg: 'policy',
        description: `with --idempotency-key, for a task still queued: ${DUPLICATE_POLICIES.join(', ')} (default RETURN_EXISTING)`,
      },
      'max-delay': { type: 'string', arg: 'duration', description: 'DEBOUNCE: run at most this long after the first enqueue' },
      region: { type: 'string', arg: 'region', description: 'only workers in this region may claim it' },
      'depends-on': { type: 'string', arg: 'ids', description: 'comma-separated ids of tasks that must succeed first' },
      ...dbOption,
    },
    run: async ({ values }) => {
      const type = values.type as string | undefined;
      if (!type) throw new UsageError('--type is required (what the worker runs)');
      if (values.payload === undefined) throw new UsageError("--payload is required: a JSON object, e.g. --payload '{}'");
      let payload: unknown;
      try {
        payload = JSON.parse(values.payload as string);
      } catch (e) {
        throw new UsageError(`--payload is not valid JSON (${(e as Error).message}); quote it, e.g. --payload '{"n":1}'`);
      }
      const input: EnqueueInput = {
        type,
        payload,
        queue: (values.queue as string | undefined) ?? null,
        priority: values.priority === undefined ? null : parseInteger(values.priority as string, '--priority'),
        delaySeconds: values.delay === undefined ? null : durationOption(values.delay as string, '--delay') / 1000,
        maxAttempts:
          values['max-attempts'] === undefined ? null : parseInteger(values['max-attempts'] as string, '--max-attempts', 1),
        idempotencyKey: (values['idempotency-key'] as string | undefined) ?? null,
        onDuplicate: onDuplicateOption(values['on-duplicate'] as string | undefined),
        maxDelaySeconds: values['max-delay'] === undefined ? null : durationOption(values['max-delay'] as string, '--max-delay') / 1000,
        compatibility: values.region === undefined ? null : { region: values.region },
        dependsOn: list(values['depends-on'] as string | undefined)?.map((id) => {
          if (!/^\d+$/.test(id)) throw new UsageError(`--depends-on takes task ids separated by commas, e.g. 1,2 (got "${id}")`);
          return Number(id);
        }),
      };
      const { task, created } = await withStore(values, (s) => s.enqueue(input));
      console.log(
        created
          ? `task ${task.id} created (${task.status} in queue "${task.queue}")`
          : `task ${task.id} not created: idempotency key "${task.idempotencyKey}" already names it (${task.status})`,
      );
    },
  },

  'tasks list': {
    summary: 'list tasks, newest first',
    usage: 'taskwire tasks list [--status <S,...>] [--type <t,...>] [--queue <name>] [--limit <n>] [--json] [--db <file>]',
    options: {
      ...filterOptions,
      limit: { type: 'string', arg: 'n', description: 'at most this many (default: 20)' },
      json: { type: 'boolean', description: 'one JSON object per line instead of a table' },
      ...dbOption,
    },
    run: async ({ values }) => {
      const limit = values.limit === undefined ? 20 : parseInteger(values.limit as string, '--limit', 1);
      const filter = filterOf(values);
      const { tasks, more } = await withStore(values, async (s) => {
        const tasks: Task[] = [];
        let after: string | null = null;
        for (;;) {
          const page = await s.listTasks({ filter, first: Math.min(LIMITS.pageSize, limit - tasks.length), after });
          tasks.push(...page.items.map((e) => e.node));
          after = page.items.at(-1)?.cursor ?? null;
          if (!page.hasNextPage || tasks.length >= limit) return { tasks, more: page.hasNextPage };
        }
      });
      if (values.json) {
        for (const t of tasks) console.log(JSON.stringify(taskJson(t)));
        return;
      }
      if (tasks.length === 0) return console.log('no tasks match');
      console.log(
        table(
          tasks.map((t) => [t.id, t.status, t.queue, t.type, t.priority, `${t.attempts}/${t.maxAttempts}`, time(t.createdAt), truncate(t.errorMessage, 50)]),
          ['ID', 'STATUS', 'QUEUE', 'TYPE', 'PRIORITY', 'ATTEMPTS', 'CREATED', 'ERROR'],
        ),
      );
      if (more) console.error(`(the newest ${tasks.length}; more with --limit)`);
    },
  },

  'tasks show': {
    summary: 'one task: its fields, payload, result and logs',
    usage: 'taskwire tasks show <id> [--db <file>]',
    options: dbOption,
    args: { id: 'the id of the task to show (see `taskwire tasks list`)' },
    run: async ({ values, positionals }) => {
      const id = parseTaskId(positionals[0]!);
      const { task, deps, dependents, logs } = await withStore(values, async (s) => {
        const task = await s.getTask(id);
        if (!task) throw notFound('task', id);
        const [[deps], [dependents]] = await Promise.all([s.dependencyIds([id]), s.dependentIds([id])]);
        const logs: TaskLog[] = [];
        for (let after: string | null = null; ; ) {
          const page = await s.listLogs(id, { first: LIMITS.pageSize, after });
          logs.push(...page.items.map((e) => e.node));
          if (!page.hasNextPage) break;
          after = page.items.at(-1)!.cursor;
        }
        return { task, deps: deps ?? [], dependents: dependents ?? [], logs };
      });
      const t = task;
      const fields: Cell[][] = [
        ['id', String(t.id)],
        ['status', t.status + (t.cancelRequested ? ' (cancel requested)' : '')],
        ['queue', t.queue],
        ['type', t.type],
        ['priority', String(t.priority)],
        ['attempts', `${t.attempts} of ${t.maxAttempts}`],
        ['region', t.region ?? '-'],
        ['format', t.format ?? '-'],
        ['created', time(t.createdAt)],
        ['run after', time(t.runAfter)],
        ['started', time(t.startedAt)],
        ['finished', time(t.finishedAt)],
        ['updated', time(t.updatedAt)],
        ['locked by', t.lockedBy ?? '-'],
        ['lease until', time(t.leaseUntil)],
        ['progress', t.progress === null ? '-' : `${Math.round(t.progress * 100)}%${t.progressMessage ? ` ${t.progressMessage}` : ''}`],
        ['timeout', t.timeoutSeconds === null ? '-' : `${t.timeoutSeconds}s`],
        ['idempotency key', t.idempotencyKey ?? '-'],
        ['correlation id', t.correlationId ?? '-'],
        ['created by', t.createdBy ?? '-'],
        ['depends on', deps.length ? deps.join(', ') : '-'],
        ['dependents', dependents.length ? dependents.join(', ') : '-'],
        ['error', t.errorMessage ?? '-'],
      ];
      const out = [
        table(fields),
        '',
        'payload:',
        JSON.stringify(t.payload, null, 2),
        '',
        'result:',
        t.result === null ? '-' : JSON.stringify(t.result, null, 2),
        '',
        `logs (${logs.length}):`,
        logs.length === 0
          ? '-'
          : table(logs.map((l) => [time(l.at), l.level, l.message, l.details === null ? '' : JSON.stringify(l.details)])),
      ];
      console.log(out.join('\n'));
    },
  },

  retry: {
    summary: 'run a FAILED or CANCELLED task again (attempts start over)',
    usage: 'taskwire retry <id> [--db <file>]',
    options: dbOption,
    args: { id: 'the id of the task to retry (see `taskwire tasks list --status FAILED,CANCELLED`)' },
    run: async ({ values, positionals }) => {
      const id = parseTaskId(positionals[0]!);
      const t = await withStore(values, (s) => s.retry(id));
      console.log(`task ${t.id} is ${t.status} again${t.status === 'BLOCKED' ? ' (waiting for the tasks it depends on)' : ''}`);
    },
  },

  'tasks update': {
    summary: "change a QUEUED, BLOCKED or FAILED task's payload, priority, start time or attempts",
    usage: "taskwire tasks update <id> [--payload '<json>'] [--priority <n>] [--delay <duration>] [--max-attempts <n>] [--db <file>]",
    options: {
      payload: { type: 'string', arg: 'json', description: 'the new payload: a JSON object' },
      priority: { type: 'string', arg: 'n', description: 'the new priority (lower runs first)' },
      delay: { type: 'string', arg: 'duration', description: 'run no sooner than this from now: 0s, 30s, 15m, 12h' },
      'max-attempts': { type: 'string', arg: 'n', description: 'the new number of attempts allowed' },
      ...dbOption,
    },
    args: { id: 'the id of the task to change' },
    run: async ({ values, positionals }) => {
      const id = parseTaskId(positionals[0]!);
      let payload: unknown;
      if (values.payload !== undefined) {
        try {
          payload = JSON.parse(values.payload as string);
        } catch (e) {
          throw new UsageError(`--payload is not valid JSON (${(e as Error).message})`);
        }
      }
      const edit = {
        payload,
        priority: values.priority === undefined ? null : parseInteger(values.priority as string, '--priority'),
        runAfter: values.delay === undefined ? null : Date.now() + durationOption(values.delay as string, '--delay'),
        maxAttempts: values['max-attempts'] === undefined ? null : parseInteger(values['max-attempts'] as string, '--max-attempts', 1),
      };
      if (payload === undefined && edit.priority === null && edit.runAfter === null && edit.maxAttempts === null) {
        throw new UsageError('give at least one of --payload, --priority, --delay, --max-attempts');
      }
      const t = await withStore(values, (s) => s.update(id, edit));
      console.log(`task ${t.id} updated (${t.status}, priority ${t.priority}, runs after ${time(t.runAfter)}, ${t.maxAttempts} attempts)`);
    },
  },

  cancel: {
    summary: 'cancel a task; a RUNNING one is asked to stop and ends when its worker sees it',
    usage: 'taskwire cancel <id> [--reason <text>] [--db <file>]',
    options: { reason: { type: 'string', arg: 'text', description: 'why (kept as the task\'s error message)' }, ...dbOption },
    args: { id: 'the id of the task to cancel (see `taskwire tasks list`)' },
    run: async ({ values, positionals }) => {
      const id = parseTaskId(positionals[0]!);
      const t = await withStore(values, (s) => s.cancel(id, (values.reason as string | undefined) ?? null));
      console.log(
        t.status === 'CANCELLED'
          ? `task ${t.id} is CANCELLED`
          : `task ${t.id} is ${t.status}: cancellation requested; its worker sees it at its next heartbeat and the task ends CANCELLED`,
      );
    },
  },
};
