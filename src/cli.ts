/**
 * The `taskwire` command. Each command opens the database named by TASKWIRE_DB (or
 * --db), does one thing through the engine, and exits with a code scripts can rely on:
 * 0 done, 1 the operation failed, 2 the command line or configuration is wrong.
 *
 * It is safe beside a running server on the same file: SQLite's WAL lets both read at
 * once and queues their writes, and a command writes through the engine, so its outbox
 * rows reach the server's subscribers through the server's outbox tailing.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from './config.js';
import { parseDuration } from './duration.js';
import {
  DEFAULTS,
  LIMITS,
  LATEST_SCHEMA_VERSION,
  SqliteTaskStore,
  TASK_STATUSES,
  TaskwireError,
  notFound,
  type EnqueueInput,
  type Role,
  type Task,
  type TaskLog,
  type TaskStatus,
} from './store/index.js';

type Values = Record<string, string | boolean | undefined>;

interface Option {
  type: 'string' | 'boolean';
  /** What `--help` shows after the option's name: `--name <arg>  description`. */
  arg?: string;
  description: string;
}

interface Command {
  summary: string;
  usage: string;
  options?: Record<string, Option>;
  /** Positional arguments, in order: name -> what to give (shown when it is missing). */
  args?: Record<string, string>;
  /** Shown after the options by `--help`. */
  notes?: string;
  run(args: { values: Values; positionals: string[] }): Promise<void>;
}

/** The command line is wrong: exit 2 with the usage. */
class UsageError extends Error {}
/** The operation ran and did not succeed: exit 1. */
class Failure extends Error {}

// ---------------------------------------------------------------- shared pieces

function dbPath(values: Values): string {
  return (values.db as string | undefined) || process.env.TASKWIRE_DB || DEFAULTS.dbPath;
}

function openStore(values: Values): SqliteTaskStore {
  const sync = (process.env.TASKWIRE_SYNC || 'normal').toLowerCase();
  if (sync !== 'normal' && sync !== 'full') {
    throw new ConfigError([`TASKWIRE_SYNC must be "normal" or "full" (got "${process.env.TASKWIRE_SYNC}")`]);
  }
  // No outbox tailing: a command writes and exits; a running server picks its events up.
  return new SqliteTaskStore({ path: dbPath(values), synchronous: sync, tailIntervalMs: 0 });
}

async function withStore<T>(values: Values, fn: (store: SqliteTaskStore) => Promise<T>): Promise<T> {
  const store = openStore(values);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** "30s", "15m", "12h", "7d" -> milliseconds, or a usage error naming the flag. */
function durationOption(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new UsageError(`${flag} takes a duration such as 30s, 15m, 12h or 7d (got "${text}")`);
  return ms;
}

function parseInteger(text: string, flag: string, min = Number.MIN_SAFE_INTEGER): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} takes a whole number${min > 0 ? ` of at least ${min}` : ''} (got "${text}")`);
  }
  return n;
}

function parseTaskId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`a task id is a number such as 42 (got "${text}")`);
  }
  return Number(text);
}

function list(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

type Cell = string | number;

/** Aligned columns: numbers to the right, text to the left. */
function table(rows: readonly Cell[][], header?: readonly string[]): string {
  const all: Cell[][] = header ? [[...header], ...rows] : [...rows];
  const columns = Math.max(0, ...all.map((r) => r.length));
  const width = Array.from({ length: columns }, (_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  const numeric = width.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  return all
    .map((r) =>
      r
        .map((c, i) => (numeric[i] ? String(c).padStart(width[i]!) : String(c).padEnd(width[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function age(seconds: number): string {
  const s = Math.floor(seconds);
  const parts: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first === -1) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(' ');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** The task with its times as ISO-8601 strings (what `--json` prints). */
function taskJson(t: Task): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    ...t,
    runAfter: iso(t.runAfter),
    leaseUntil: iso(t.leaseUntil),
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
    startedAt: iso(t.startedAt),
    finishedAt: iso(t.finishedAt),
  };
}

function truncate(text: string | null, max: number): string {
  if (text === null) return '-';
  const one = text.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

const dbOption: Record<string, Option> = {
  db: { type: 'string', arg: 'file', description: `database file (default: $TASKWIRE_DB, else ${DEFAULTS.dbPath})` },
};

const ROLES: Role[] = ['admin', 'producer', 'worker', 'viewer'];

// ---------------------------------------------------------------- commands

const commands: Record<string, Command> = {
  serve: {
    summary: 'run the server (what `npm start` runs)',
    usage: 'taskwire serve',
    notes: 'Configured by the environment: PORT, HOST, TASKWIRE_DB, ... (see the README). Stops gracefully on SIGTERM or SIGINT.',
    // Imported on demand: the GraphQL stack costs a second of start-up the other commands do not need.
    run: async () => (await import('./server.js')).serve(),
  },

  migrate: {
    summary: 'create or upgrade the database and print its schema version',
    usage: 'taskwire migrate [--db <file>]',
    options: dbOption,
    notes: 'Opening a database applies any pending migrations (each in one transaction); every command and the server do it too.',
    run: async ({ values }) => {
      const path = resolve(dbPath(values));
      const existed = fileSize(path) > 0;
      const info = await withStore(values, async (s) => s.info);
      console.log(
        `${existed ? '' : 'created '}${info.path}: schema version ${info.schemaVersion}` +
          (info.schemaVersion === LATEST_SCHEMA_VERSION ? ' (up to date)' : ` (this Taskwire knows up to ${LATEST_SCHEMA_VERSION})`),
      );
    },
  },

  status: {
    summary: 'queue statistics: tasks by status and type, oldest queued, workers, recent outcomes',
    usage: 'taskwire status [--queue <name>] [--db <file>]',
    options: { queue: { type: 'string', arg: 'name', description: 'one queue (default: all queues)' }, ...dbOption },
    run: async ({ values }) => {
      const queue = (values.queue as string | undefined) ?? null;
      const st = await withStore(values, (s) => s.stats(queue));
      const out = [
        `queue: ${queue ?? 'all queues'}`,
        '',
        table(
          st.counts.map((c) => [c.status, c.count]),
          ['STATUS', 'TASKS'],
        ),
        '',
        st.byType.length === 0
          ? 'no tasks'
          : table(
              st.byType.map((t) => [t.type, t.queued, t.running, t.succeeded, t.failed]),
              ['TYPE', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'],
            ),
        '',
        table([
          ['oldest queued', st.oldestQueuedAgeSeconds === null ? '-' : age(st.oldestQueuedAgeSeconds)],
          ['active workers', String(st.activeWorkers)],
          ['succeeded last minute', String(st.succeededLastMinute)],
          ['failed last minute', String(st.failedLastMinute)],
        ]),
      ];
      console.log(out.join('\n'));
    },
  },

  enqueue: {
    summary: 'add a task; prints its id and whether it was created',
    usage: "taskwire enqueue --type <type> --payload '<json object>' [options]",
    options: {
      type: { type: 'string', arg: 'type', description: 'what to run (workers claim by type)' },
      payload: { type: 'string', arg: 'json', description: 'what to run it on: a JSON object, e.g. \'{"url":"a.png"}\'' },
      queue: { type: 'string', arg: 'name', description: 'queue (default: default)' },
      priority: { type: 'string', arg: 'n', description: `lower runs first (default: ${DEFAULTS.priority})` },
      delay: { type: 'string', arg: 'duration', description: 'run no sooner than this from now: 30s, 15m, 12h, 7d' },
      'max-attempts': { type: 'string', arg: 'n', description: 'attempts before the task FAILs (default: 5)' },
      'idempotency-key': { type: 'string', arg: 'key', description: 'a second enqueue with this key returns the first task' },
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
      status: { type: 'string', arg: 'S,...', description: `only these statuses: ${TASK_STATUSES.join(', ')}` },
      type: { type: 'string', arg: 't,...', description: 'only these types' },
      queue: { type: 'string', arg: 'name', description: 'only this queue' },
      limit: { type: 'string', arg: 'n', description: 'at most this many (default: 20)' },
      json: { type: 'boolean', description: 'one JSON object per line instead of a table' },
      ...dbOption,
    },
    run: async ({ values }) => {
      const status = list(values.status as string | undefined)?.map((s) => {
        const up = s.toUpperCase() as TaskStatus;
        if (!TASK_STATUSES.includes(up)) throw new UsageError(`--status: unknown status "${s}" (use ${TASK_STATUSES.join(', ')})`);
        return up;
      });
      const limit = values.limit === undefined ? 20 : parseInteger(values.limit as string, '--limit', 1);
      const filter = { status, type: list(values.type as string | undefined), queue: (values.queue as string | undefined) ?? null };
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

  backup: {
    summary: 'copy the database to a file, online (a running server keeps working), and check the copy',
    usage: 'taskwire backup <file> [--force] [--db <file>]',
    options: { force: { type: 'boolean', description: 'overwrite <file> if it exists' }, ...dbOption },
    args: { file: 'the file to write the copy to, e.g. backup-$(date +%F).db' },
    notes: 'The copy is a single file (rollback journal mode); it is then opened read-only for PRAGMA integrity_check.',
    run: async ({ values, positionals }) => {
      const dest = resolve(positionals[0]!);
      if (dest === resolve(dbPath(values))) throw new UsageError('the backup file must not be the database itself');
      if (existsSync(dest) && !values.force) {
        throw new Failure(`${dest} already exists; choose another file, or pass --force to overwrite it`);
      }
      // A -wal or -journal left beside the file would be read into the fresh copy.
      for (const f of [dest, `${dest}-wal`, `${dest}-shm`, `${dest}-journal`]) rmSync(f, { force: true });
      const { source, totalPages, integrity: problems, tasks, schemaVersion: version } = await withStore(values, async (s) => ({
        source: s.info.path,
        ...(await s.backup(dest)),
      }));
      if (problems.length !== 1 || problems[0] !== 'ok') {
        throw new Failure(`the copy at ${dest} failed PRAGMA integrity_check:\n  ${problems.slice(0, 20).join('\n  ')}`);
      }
      console.log(
        `backed up ${source} to ${dest}: ${bytes(fileSize(dest))} (${totalPages} pages), integrity ok, ` +
          `${tasks} tasks, schema version ${version}`,
      );
    },
  },

  cleanup: {
    summary: 'delete finished tasks (SUCCEEDED, FAILED, CANCELLED) older than a duration, with their logs and events',
    usage: 'taskwire cleanup --older-than <duration> [--db <file>]',
    options: {
      'older-than': { type: 'string', arg: 'duration', description: 'finished before this long ago: 30s, 15m, 12h, 7d' },
      ...dbOption,
    },
    run: async ({ values }) => {
      if (values['older-than'] === undefined) throw new UsageError('--older-than is required, e.g. --older-than 7d');
      const ms = durationOption(values['older-than'] as string, '--older-than');
      const r = await withStore(values, (s) => s.cleanup(ms));
      console.log(
        `removed ${r.tasks} finished task${r.tasks === 1 ? '' : 's'} (finished before ${time(Date.now() - ms)}), ` +
          `${r.logs} log line${r.logs === 1 ? '' : 's'} and ${r.events} event${r.events === 1 ? '' : 's'}`,
      );
    },
  },

  vacuum: {
    summary: 'rebuild the database file to give free pages back to the disk',
    usage: 'taskwire vacuum [--db <file>]',
    options: dbOption,
    notes: "It holds the write lock while it runs: a running server's writes wait (up to its busy timeout). Run it when the queue is quiet.",
    run: async ({ values }) => {
      const size = (s: SqliteTaskStore) =>
        (s.db.pragma('page_count', { simple: true }) as number) * (s.db.pragma('page_size', { simple: true }) as number);
      const { path, before, after } = await withStore(values, async (s) => {
        const before = size(s);
        await s.vacuum();
        return { path: s.info.path, before, after: size(s) };
      });
      console.log(`vacuumed ${path}: ${bytes(before)} -> ${bytes(after)}`);
    },
  },

  checkpoint: {
    summary: 'copy the write-ahead log into the database file and truncate it',
    usage: 'taskwire checkpoint [--db <file>]',
    options: dbOption,
    run: async ({ values }) => {
      const { path, walBefore, busy } = await withStore(values, async (s) => {
        const walBefore = fileSize(`${s.info.path}-wal`);
        const r = await s.checkpoint();
        return { path: s.info.path, walBefore, busy: r.busy !== 0 };
      });
      if (busy) {
        throw new Failure('the checkpoint could not finish: another connection was reading or writing; run it again when the queue is quieter');
      }
      console.log(`checkpointed ${path}: WAL ${bytes(walBefore)} -> ${bytes(fileSize(`${path}-wal`))}`);
    },
  },

  'token create': {
    summary: 'create an API token; prints it once',
    usage: 'taskwire token create --role <admin|producer|worker|viewer> --name <name> [--worker-id <id>] [--db <file>]',
    options: {
      role: { type: 'string', arg: 'role', description: `one of ${ROLES.join(', ')}` },
      name: { type: 'string', arg: 'name', description: 'who or what will use the token' },
      'worker-id': { type: 'string', arg: 'id', description: 'bind a worker token to this worker id' },
      ...dbOption,
    },
    run: async ({ values }) => {
      const role = values.role as Role | undefined;
      if (!role || !ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      if (!values.name) throw new UsageError('--name is required (who or what will use the token)');
      const { token, info } = await withStore(values, (s) =>
        s.createToken({ name: values.name as string, role, workerId: (values['worker-id'] as string | undefined) ?? null }),
      );
      console.log(token);
      console.error(
        `created token ${info.id} (${info.role}${info.workerId ? `, worker id ${info.workerId}` : ''}, "${info.name}").` +
          ' It is shown only this once: store it now. Send it as "Authorization: Bearer <token>".',
      );
    },
  },
  'token list': {
    summary: 'list API tokens (never their secrets)',
    usage: 'taskwire token list [--db <file>]',
    options: dbOption,
    run: async ({ values }) => {
      const tokens = await withStore(values, (s) => s.listTokens());
      if (tokens.length === 0) return console.log('no tokens: access control is off');
      console.log(
        table(
          tokens.map((t) => [t.id, t.role, t.name, t.workerId ?? '-', time(t.createdAt), time(t.revokedAt)]),
          ['ID', 'ROLE', 'NAME', 'WORKER ID', 'CREATED', 'REVOKED'],
        ),
      );
    },
  },
  'token revoke': {
    summary: 'revoke an API token by id',
    usage: 'taskwire token revoke <id> [--db <file>]',
    options: dbOption,
    args: { id: 'the id of the token to revoke (see `taskwire token list`)' },
    run: async ({ values, positionals }) => {
      const t = await withStore(values, (s) => s.revokeToken(positionals[0]!));
      console.log(`revoked token ${t.id} ("${t.name}"); it stops working within a second`);
    },
  },
};

// ---------------------------------------------------------------- dispatch

function help(prefix = ''): string {
  const names = Object.keys(commands).filter((k) => k.startsWith(prefix));
  const width = Math.max(...names.map((k) => k.length));
  return [
    `usage: taskwire ${prefix}<command> [options]`,
    '',
    ...names.map((name) => `  ${name.padEnd(width)}  ${commands[name]!.summary}`),
    '',
    "`taskwire <command> --help` shows a command's options.",
    'Exit codes: 0 done, 1 the operation failed, 2 the command line or configuration is wrong.',
  ].join('\n');
}

function commandHelp(name: string): string {
  const c = commands[name]!;
  const opts = Object.entries(c.options ?? {}).map(([k, o]) => [`--${k}${o.arg ? ` <${o.arg}>` : ''}`, o.description]);
  const args = Object.entries(c.args ?? {}).map(([k, what]) => [`<${k}>`, what]);
  return [
    `taskwire ${name}: ${c.summary}`,
    '',
    `usage: ${c.usage}`,
    ...(args.length || opts.length ? ['', table([...args, ...opts].map(([a, d]) => [`  ${a}`, d!]))] : []),
    ...(c.notes ? ['', c.notes] : []),
  ].join('\n');
}

function findCommand(argv: readonly string[]): string | null {
  const two = `${argv[0]} ${argv[1] ?? ''}`.trim();
  if (commands[two]) return two;
  return commands[argv[0]!] ? argv[0]! : null;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || (argv[0] === 'help' && argv.length === 1)) {
    console.log(help());
    return 0;
  }
  const asksHelp = argv[0] === 'help';
  const name = findCommand(asksHelp ? argv.slice(1) : argv);
  if (!name) {
    const words = (asksHelp ? argv.slice(1) : argv).slice(0, 2);
    // "taskwire tasks" or "taskwire token foo": show that group's commands.
    const group = Object.keys(commands).some((k) => k.startsWith(`${words[0]} `)) ? `${words[0]} ` : '';
    if (asksHelp && group && words.length === 1) {
      console.log(help(group));
      return 0;
    }
    const problem = group && words.length === 1 ? `"${words[0]}" needs a subcommand` : `unknown command "${words.join(' ')}"`;
    console.error(`taskwire: ${problem}\n\n${help(group)}`);
    return 2;
  }
  const command = commands[name]!;
  const rest = argv.slice(name.split(' ').length + (asksHelp ? 1 : 0));
  if (asksHelp || rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(name));
    return 0;
  }
  try {
    const parsed = parseArgs({ args: rest, options: command.options ?? {}, allowPositionals: true, strict: true });
    const wanted = Object.entries(command.args ?? {});
    const missing = wanted[parsed.positionals.length];
    if (missing) throw new UsageError(`give ${missing[1]}`);
    if (parsed.positionals.length > wanted.length) {
      throw new UsageError(`unexpected argument "${parsed.positionals[wanted.length]}"`);
    }
    await command.run({ values: parsed.values as Values, positionals: parsed.positionals });
    return 0;
  } catch (e) {
    const usage = `usage: ${command.usage}\n(taskwire ${name} --help for details)`;
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`taskwire ${name}: ${(e as Error).message}\n${usage}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      console.error(`taskwire: ${e.message}`);
      return 2;
    }
    if (e instanceof TaskwireError) {
      // The engine names its input fields (dependsOn); say which option that was (--depends-on).
      const field = typeof e.details?.field === 'string' ? e.details.field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) : '';
      const hint =
        e.code === 'BUSY'
          ? '; another process held the database lock too long: run the command again'
          : field && command.options?.[field]
            ? `; check --${field}`
            : '';
      console.error(`taskwire ${name}: ${e.message} (${e.code})${hint}${e.code === 'VALIDATION' ? `\n${usage}` : ''}`);
      return e.code === 'VALIDATION' ? 2 : 1;
    }
    console.error(`taskwire ${name}: ${e instanceof Failure ? '' : 'failed: '}${(e as Error).message}`);
    return 1;
  }
}

// Reading stops early (`taskwire tasks list --json | head`): that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// `serve` keeps running until a signal; every other command exits with its code once
// its output is flushed.
const args = process.argv.slice(2);
const code = await main(args);
if (args[0] !== 'serve' || code !== 0) {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((r) => s.write('', r))));
  process.exit(code);
}
