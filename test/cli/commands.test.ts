/**
 * Each `taskwire` command run as a child process against a temporary database: its
 * output, its exit code, and what it left in the database.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { TASK_STATUSES } from '../../src/store/index.js';
import { LATEST_SCHEMA_VERSION } from '../../src/store/sqlite/migrations/index.js';
import { SqliteTaskStore } from '../../src/store/sqlite/store.js';
import { field, rows, taskwire, taskwireAll, tempFolder, withDb } from './harness.js';

const DAY = 86_400_000;
// Each command is a child process; a loaded machine can make one take seconds.
vi.setConfig({ testTimeout: 120_000 });
const tmp = tempFolder('commands');

/** A fresh database file with the schema in place. */
async function freshDb(name = 'queue.db'): Promise<string> {
  const path = tmp.file(name);
  await withDb(path, async () => {});
  return path;
}

describe('help and usage', () => {
  it('lists every command, exits 0, and does not touch the database', async () => {
    const db = tmp.file('never-created.db');
    const r = await taskwire(['--help'], { db });
    expect(r.code).toBe(0);
    for (const name of [
      'serve', 'migrate', 'status', 'enqueue', 'tasks list', 'tasks show', 'retry', 'cancel',
      'tasks update', 'queue pause', 'queue resume', 'queue list', 'bulk cancel', 'bulk retry', 'bulk delete',
      'backup', 'cleanup', 'vacuum', 'checkpoint', 'token create', 'token list', 'token revoke',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name}\\s{2,}\\S`, 'm'));
    }
    expect(existsSync(db)).toBe(false);
  });

  it('`<command> --help` and `help <command>` show the usage and every option', async () => {
    const db = tmp.file('never-created.db');
    const [a, b] = await Promise.all([taskwire(['enqueue', '--help'], { db }), taskwire(['help', 'enqueue'], { db })]);
    expect(a.code).toBe(0);
    expect(b).toEqual(a);
    expect(a.stdout).toContain('usage: taskwire enqueue --type <type>');
    for (const opt of ['type', 'payload', 'queue', 'priority', 'delay', 'max-attempts', 'idempotency-key', 'region', 'depends-on', 'db']) {
      expect(a.stdout).toMatch(new RegExp(`^\\s+--${opt}\\b.*\\s{2,}\\S`, 'm'));
    }
    const show = await taskwire(['tasks', 'show', '--help'], { db });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('usage: taskwire tasks show <id>');
    expect(show.stdout).toMatch(/^\s+<id>\s{2,}the id of the task/m);
    expect(existsSync(db)).toBe(false);
  });

  it('an unknown command exits 2 with the list; a bare group lists its subcommands', async () => {
    const db = tmp.file('never-created.db');
    const [unknown, group] = await Promise.all([taskwire(['frobnicate'], { db }), taskwire(['tasks'], { db })]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain('tasks list');
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('"tasks" needs a subcommand');
    expect(group.stderr).toMatch(/tasks list\s+list tasks/);
    expect(group.stderr).not.toContain('token create');
  });

  it('an unknown option or a stray argument exits 2 with the usage', async () => {
    const db = await freshDb();
    const [option, extra] = await Promise.all([taskwire(['status', '--bogus'], { db }), taskwire(['vacuum', 'now'], { db })]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--bogus'");
    expect(option.stderr).toContain('usage: taskwire status');
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('unexpected argument "now"');
  });

  it('a bad TASKWIRE_SYNC is a configuration error (exit 2); --db wins over TASKWIRE_DB', async () => {
    const envDb = tmp.file('env.db');
    const flagDb = tmp.file('flag.db');
    const bad = await taskwire(['migrate'], { db: envDb, env: { TASKWIRE_SYNC: 'sometimes' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TASKWIRE_SYNC must be "normal" or "full"');
    expect(existsSync(envDb)).toBe(false);
    const ok = await taskwire(['migrate', '--db', flagDb], { db: envDb });
    expect(ok.code).toBe(0);
    expect(existsSync(flagDb)).toBe(true);
    expect(existsSync(envDb)).toBe(false);
  });
});

describe('migrate', () => {
  it('creates the database at the latest schema version, then reports it as up to date', async () => {
    const db = tmp.file('migrate.db');
    const first = await taskwire(['migrate'], { db });
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toBe(`created ${db}: schema version ${LATEST_SCHEMA_VERSION} (up to date)`);
    const versions = new Database(db, { readonly: true }).prepare('SELECT version FROM taskwire_migrations ORDER BY version').pluck().all();
    expect(versions).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    const again = await taskwire(['migrate'], { db });
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(`${db}: schema version ${LATEST_SCHEMA_VERSION} (up to date)`);
  });

  it('refuses a file that is not a SQLite database (exit 1) and leaves it untouched', async () => {
    const db = tmp.file('notes.txt');
    const text = 'these are my notes, not a database\n'.repeat(10);
    writeFileSync(db, text);
    const r = await taskwire(['migrate'], { db });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not a SQLite database');
    expect(readFileSync(db, 'utf8')).toBe(text);
  });
});

describe('enqueue', () => {
  it('creates a task with every option and prints its id', async () => {
    const db = await freshDb();
    const dep = await withDb(db, async (s) => (await s.enqueue({ type: 'first', payload: {} })).task.id);
    const before = Date.now();
    const r = await taskwire(
      [
        'enqueue', '--type', 'email', '--payload', '{"to":"ada@example.com","n":2}', '--queue', 'mail', '--priority', '7',
        '--delay', '10m', '--max-attempts', '3', '--idempotency-key', 'welcome-ada', '--region', 'eu-west', '--depends-on', String(dep),
      ],
      { db },
    );
    expect(r.code, r.stderr).toBe(0);
    const m = /^task (\d+) created \(BLOCKED in queue "mail"\)$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    const id = Number(m![1]);
    await withDb(db, async (s) => {
      const t = (await s.getTask(id))!;
      expect(t).toMatchObject({
        type: 'email',
        payload: { to: 'ada@example.com', n: 2 },
        queue: 'mail',
        priority: 7,
        maxAttempts: 3,
        idempotencyKey: 'welcome-ada',
        region: 'eu-west',
        compatibility: { region: 'eu-west' },
        status: 'BLOCKED',
      });
      expect(t.runAfter).toBeGreaterThanOrEqual(before + 600_000);
      expect(t.runAfter).toBeLessThanOrEqual(Date.now() + 600_000);
      expect(await s.dependencyIds([id])).toEqual([[dep]]);
    });
  });

  it('with a used idempotency key, prints the existing task and adds nothing', async () => {
    const db = await freshDb();
    const args = ['enqueue', '--type', 'report', '--payload', '{}', '--idempotency-key', 'daily-2025-01-01'];
    const first = await taskwire(args, { db });
    expect(first.stdout).toMatch(/^task (\d+) created \(QUEUED in queue "default"\)/);
    const id = first.stdout.split(' ')[1];
    const second = await taskwire(args, { db });
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe(`task ${id} not created: idempotency key "daily-2025-01-01" already names it (QUEUED)`);
    expect(await withDb(db, (s) => s.countTasks())).toBe(1);
  });

  it('rejects bad input with exit 2, the usage and what to fix, and enqueues nothing', async () => {
    const db = await freshDb();
    const cases: [string[], string][] = [
      [['--payload', '{}'], '--type is required'],
      [['--type', 'x'], '--payload is required'],
      [['--type', 'x', '--payload', '{to: 1}'], '--payload is not valid JSON'],
      [['--type', 'x', '--payload', '[1,2]'], 'payload must be a JSON object'],
      [['--type', 'x', '--payload', '{}', '--delay', '10 minutes'], '--delay takes a duration such as 30s, 15m, 12h or 7d (got "10 minutes")'],
      [['--type', 'x', '--payload', '{}', '--priority', 'high'], '--priority takes a whole number (got "high")'],
      [['--type', 'x', '--payload', '{}', '--max-attempts', '0'], '--max-attempts takes a whole number of at least 1'],
      [['--type', 'x', '--payload', '{}', '--depends-on', '1,two'], '--depends-on takes task ids'],
      [['--type', 'x', '--payload', '{}', '--depends-on', '99'], 'dependsOn names tasks that do not exist: 99 (VALIDATION); check --depends-on'],
    ];
    const results = await taskwireAll(cases.map(([args]) => ['enqueue', ...args]), { db });
    results.forEach((r, i) => {
      expect(r.code, cases[i]![1]).toBe(2);
      expect(r.stderr).toContain(cases[i]![1]);
      expect(r.stderr).toContain('usage: taskwire enqueue');
      expect(r.stdout).toBe('');
    });
    expect(await withDb(db, (s) => s.countTasks())).toBe(0);
  });
});

/** default: email x3 (one SUCCEEDED, one RUNNING, one QUEUED), thumb (FAILED); bulk: report (QUEUED). */
async function seedMixed(db: string): Promise<Record<string, number>> {
  return withDb(db, async (s) => {
    const ids: Record<string, number> = {};
    for (const name of ['email1', 'email2', 'email3']) ids[name] = (await s.enqueue({ type: 'email', payload: { name } })).task.id;
    ids.thumb = (await s.enqueue({ type: 'thumb', payload: { format: 'png' }, maxAttempts: 1 })).task.id;
    ids.report = (await s.enqueue({ type: 'report', payload: {}, queue: 'bulk' })).task.id;
    const [done] = await s.claim({ workerId: 'w1', types: ['email'] });
    await s.complete({ taskId: done!.task.id, leaseToken: done!.leaseToken, result: { sent: true } });
    const [thumb] = await s.claim({ workerId: 'w1', types: ['thumb'] });
    await s.fail({ taskId: thumb!.task.id, leaseToken: thumb!.leaseToken, error: 'image too large', retryable: false });
    await s.claim({ workerId: 'w1', types: ['email'], leaseSeconds: 3600 });
    return ids;
  });
}

describe('status', () => {
  it('prints counts by status and by type, oldest queued age, workers and recent outcomes', async () => {
    const db = await freshDb();
    await seedMixed(db);
    const r = await taskwire(['status'], { db });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^queue: all queues$/m);
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, field(r.stdout, s)]));
    expect(counts).toEqual({ BLOCKED: '0', QUEUED: '2', RUNNING: '1', SUCCEEDED: '1', FAILED: '1', CANCELLED: '0' });
    const table = rows(r.stdout);
    expect(table).toContainEqual(['TYPE', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED']);
    expect(table).toContainEqual(['email', '1', '1', '1', '0']);
    expect(table).toContainEqual(['report', '1', '0', '0', '0']);
    expect(table).toContainEqual(['thumb', '0', '0', '0', '1']);
    expect(field(r.stdout, 'oldest queued')).toMatch(/^\d+s$/);
    expect(field(r.stdout, 'active workers')).toBe('1');
    expect(field(r.stdout, 'succeeded last minute')).toBe('1');
    expect(field(r.stdout, 'failed last minute')).toBe('1');
    // Columns are aligned: each count ends in the same column.
    const ends = TASK_STATUSES.map((s) => r.stdout.split('\n').find((l) => l.startsWith(`${s} `))!.length);
    expect(new Set(ends).size).toBe(1);
  });

  it('--queue narrows it to one queue', async () => {
    const db = await freshDb();
    await seedMixed(db);
    const r = await taskwire(['status', '--queue', 'bulk'], { db });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^queue: bulk$/m);
    expect(field(r.stdout, 'QUEUED')).toBe('1');
    expect(field(r.stdout, 'SUCCEEDED')).toBe('0');
    expect(rows(r.stdout).map((row) => row[0])).not.toContain('email');
    expect(field(r.stdout, 'succeeded last minute')).toBe('0');
  });
});

describe('tasks list', () => {
  it('prints a table, newest first, limited by --limit', async () => {
    const db = await freshDb();
    const ids = await withDb(db, async (s) => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) out.push((await s.enqueue({ type: `job${i}`, payload: { i } })).task.id);
      return out;
    });
    const all = await taskwire(['tasks', 'list'], { db });
    expect(all.code).toBe(0);
    const [header, ...body] = rows(all.stdout);
    expect(header).toEqual(['ID', 'STATUS', 'QUEUE', 'TYPE', 'PRIORITY', 'ATTEMPTS', 'CREATED', 'ERROR']);
    expect(body.map((r) => Number(r[0]))).toEqual([...ids].reverse());
    expect(body[0]).toEqual([String(ids[4]), 'QUEUED', 'default', 'job4', '100', '0/5', expect.stringMatching(/^\d{4}-\d\d-\d\dT/), '-']);
    expect(all.stderr).toBe('');

    const limited = await taskwire(['tasks', 'list', '--limit', '2'], { db });
    expect(rows(limited.stdout).slice(1).map((r) => Number(r[0]))).toEqual([ids[4], ids[3]]);
    expect(limited.stderr).toContain('more with --limit');
  });

  it('filters by status, type and queue; --json prints one task per line', async () => {
    const db = await freshDb();
    const ids = await seedMixed(db);
    const failed = await taskwire(['tasks', 'list', '--status', 'failed,succeeded', '--json'], { db });
    expect(failed.code).toBe(0);
    const lines = failed.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((t) => [t.id, t.status])).toEqual([
      [ids.thumb, 'FAILED'],
      [ids.email1, 'SUCCEEDED'],
    ]);
    expect(lines[0]).toMatchObject({ type: 'thumb', errorMessage: 'image too large', payload: { format: 'png' } });
    expect(lines[0].createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const [byType, byQueue, none] = await Promise.all([
      taskwire(['tasks', 'list', '--type', 'email'], { db }),
      taskwire(['tasks', 'list', '--queue', 'bulk'], { db }),
      taskwire(['tasks', 'list', '--status', 'CANCELLED'], { db }),
    ]);
    expect(rows(byType.stdout).slice(1).map((r) => r[3])).toEqual(['email', 'email', 'email']);
    expect(rows(byQueue.stdout).slice(1).map((r) => Number(r[0]))).toEqual([ids.report]);
    expect(none.stdout.trim()).toBe('no tasks match');
    expect(rows(byType.stdout).find((r) => r[1] === 'FAILED')).toBeUndefined();
  });

  it('rejects an unknown status or a bad limit with exit 2', async () => {
    const db = await freshDb();
    const [status, limit] = await Promise.all([
      taskwire(['tasks', 'list', '--status', 'QUEUED,DONE'], { db }),
      taskwire(['tasks', 'list', '--limit', '0'], { db }),
    ]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('unknown status "DONE" (use BLOCKED, QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)');
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit takes a whole number of at least 1');
  });
});

describe('tasks show', () => {
  it('prints the fields, payload, result and logs of a task', async () => {
    const db = await freshDb();
    const { id, dependent } = await withDb(db, async (s) => {
      const { task } = await s.enqueue({ type: 'render', payload: { scene: 'intro', frames: [1, 2] }, idempotencyKey: 'intro-v1' });
      const dependent = (await s.enqueue({ type: 'publish', payload: {}, dependsOn: [task.id] })).task.id;
      const [c] = await s.claim({ workerId: 'render-1' });
      await s.appendLog({ taskId: task.id, level: 'INFO', message: 'rendering frame 1', details: { frame: 1 }, leaseToken: c!.leaseToken });
      await s.appendLog({ taskId: task.id, level: 'WARN', message: 'slow frame', leaseToken: c!.leaseToken });
      await s.complete({ taskId: task.id, leaseToken: c!.leaseToken, result: { url: 'intro.mp4' } });
      return { id: task.id, dependent };
    });
    const r = await taskwire(['tasks', 'show', String(id)], { db });
    expect(r.code, r.stderr).toBe(0);
    expect(field(r.stdout, 'id')).toBe(String(id));
    expect(field(r.stdout, 'status')).toBe('SUCCEEDED');
    expect(field(r.stdout, 'type')).toBe('render');
    expect(field(r.stdout, 'attempts')).toBe('1 of 5');
    expect(field(r.stdout, 'idempotency key')).toBe('intro-v1');
    expect(field(r.stdout, 'dependents')).toBe(String(dependent));
    expect(field(r.stdout, 'progress')).toBe('100%');
    const payload = r.stdout.slice(r.stdout.indexOf('payload:\n') + 9, r.stdout.indexOf('\n\nresult:'));
    expect(JSON.parse(payload)).toEqual({ scene: 'intro', frames: [1, 2] });
    const result = r.stdout.slice(r.stdout.indexOf('result:\n') + 8, r.stdout.indexOf('\n\nlogs'));
    expect(JSON.parse(result)).toEqual({ url: 'intro.mp4' });
    expect(r.stdout).toContain('logs (2):');
    const logLines = rows(r.stdout.slice(r.stdout.indexOf('logs (2):') + 9));
    expect(logLines).toEqual([
      [expect.stringMatching(/^\d{4}-/), 'INFO', 'rendering frame 1', '{"frame":1}'],
      [expect.stringMatching(/^\d{4}-/), 'WARN', 'slow frame'],
    ]);
  });

  it('an unknown id exits 1 saying so; a missing or malformed id exits 2', async () => {
    const db = await freshDb();
    const [unknown, missing, malformed] = await Promise.all([
      taskwire(['tasks', 'show', '42'], { db }),
      taskwire(['tasks', 'show'], { db }),
      taskwire(['tasks', 'show', 'abc'], { db }),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('taskwire tasks show: task 42 does not exist (NOT_FOUND)');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('give the id of the task to show');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('a task id is a number such as 42 (got "abc")');
  });
});

describe('retry and cancel', () => {
  it('retry puts a FAILED task back in the queue with its attempts reset', async () => {
    const db = await freshDb();
    const ids = await seedMixed(db);
    const r = await taskwire(['retry', String(ids.thumb)], { db });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`task ${ids.thumb} is QUEUED again`);
    const t = await withDb(db, async (s) => (await s.getTask(ids.thumb!))!);
    expect(t).toMatchObject({ status: 'QUEUED', attempts: 0, errorMessage: null, finishedAt: null });
  });

  it('retry of a task that has not finished, or of an unknown one, exits 1 with the reason', async () => {
    const db = await freshDb();
    const ids = await seedMixed(db);
    const [queued, unknown] = await Promise.all([taskwire(['retry', String(ids.report)], { db }), taskwire(['retry', '999'], { db })]);
    expect(queued.code).toBe(1);
    expect(queued.stderr).toContain(`only FAILED or CANCELLED tasks can be retried; task ${ids.report} is QUEUED (INVALID_STATE)`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('task 999 does not exist');
    expect((await withDb(db, (s) => s.getTask(ids.report!)))!.status).toBe('QUEUED');
  });

  it('cancel ends a QUEUED task with the reason, and asks a RUNNING one to stop', async () => {
    const db = await freshDb();
    const ids = await seedMixed(db);
    const queued = await taskwire(['cancel', String(ids.report), '--reason', 'report no longer needed'], { db });
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout.trim()).toBe(`task ${ids.report} is CANCELLED`);
    const runningId = await withDb(db, async (s) => (await s.listTasks({ filter: { status: ['RUNNING'] } })).items[0]!.node.id);
    const running = await taskwire(['cancel', String(runningId)], { db });
    expect(running.code).toBe(0);
    expect(running.stdout).toContain(`task ${runningId} is RUNNING: cancellation requested`);
    await withDb(db, async (s) => {
      expect(await s.getTask(ids.report!)).toMatchObject({ status: 'CANCELLED', errorMessage: 'report no longer needed' });
      expect(await s.getTask(runningId)).toMatchObject({ status: 'RUNNING', cancelRequested: true });
    });
  });

  it('cancel of a finished task exits 1 and changes nothing', async () => {
    const db = await freshDb();
    const ids = await seedMixed(db);
    const r = await taskwire(['cancel', String(ids.email1)], { db });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`task ${ids.email1} is SUCCEEDED and can no longer be cancelled (INVALID_STATE)`);
    expect((await withDb(db, (s) => s.getTask(ids.email1!)))!.status).toBe('SUCCEEDED');
  });
});

describe('backup', () => {
  it('writes a checked single-file copy; refuses to overwrite without --force', async () => {
    const db = await freshDb();
    await seedMixed(db);
    const dest = tmp.file('copy.db');
    const r = await taskwire(['backup', dest], { db });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(
      new RegExp(`^backed up ${db} to ${dest}: [\\d.]+ KB, integrity ok, 5 tasks, schema version ${LATEST_SCHEMA_VERSION}$`),
    );
    // One self-contained file: no -wal or -shm beside it, readable read-only as it is.
    expect(existsSync(`${dest}-wal`)).toBe(false);
    expect(existsSync(`${dest}-shm`)).toBe(false);
    const copy = new Database(dest, { readonly: true });
    expect(copy.prepare('SELECT type FROM tasks ORDER BY id').pluck().all()).toEqual(['email', 'email', 'email', 'thumb', 'report']);
    copy.close();

    const sizeBefore = statSync(dest).size;
    await withDb(db, (s) => s.enqueue({ type: 'later', payload: {} }));
    const refused = await taskwire(['backup', dest], { db });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already exists; choose another file, or pass --force to overwrite it');
    expect(statSync(dest).size).toBe(sizeBefore);
    const forced = await taskwire(['backup', dest, '--force'], { db });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('6 tasks');
  });

  it('refuses the database itself as the destination, and reports an unwritable one', async () => {
    const db = await freshDb();
    const [self, nowhere] = await Promise.all([
      taskwire(['backup', db], { db }),
      taskwire(['backup', `${tmp.dir}/no/such/folder/copy.db`], { db }),
    ]);
    expect(self.code).toBe(2);
    expect(self.stderr).toContain('the backup file must not be the database itself');
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain('directory does not exist');
  });
});

describe('cleanup', () => {
  it('removes finished tasks older than the duration, keeps the rest, and says what it removed', async () => {
    const db = await freshDb();
    let now = Date.now() - 10 * DAY;
    const ids = await withDb(
      db,
      async (s) => {
        const old = (await s.enqueue({ type: 'old', payload: {} })).task.id;
        const oldQueued = (await s.enqueue({ type: 'old-queued', payload: {}, delaySeconds: 365 * 86_400 })).task.id;
        const [c] = await s.claim({ workerId: 'w', types: ['old'] });
        await s.appendLog({ taskId: old, level: 'INFO', message: 'done', leaseToken: c!.leaseToken });
        await s.complete({ taskId: old, leaseToken: c!.leaseToken });
        now += 9 * DAY;
        const recent = (await s.enqueue({ type: 'recent', payload: {} })).task.id;
        await s.cancel(recent);
        return { old, oldQueued, recent };
      },
      { now: () => now },
    );

    const bad = await taskwire(['cleanup', '--older-than', '7 days'], { db });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--older-than takes a duration such as 30s, 15m, 12h or 7d (got "7 days")');
    expect(bad.stderr).toContain('usage: taskwire cleanup --older-than <duration>');
    const missing = await taskwire(['cleanup'], { db });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--older-than is required');
    expect(await withDb(db, (s) => s.countTasks())).toBe(3);

    const r = await taskwire(['cleanup', '--older-than', '7d'], { db });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^removed 1 finished task \(finished before \S+\), 1 log line and \d+ events\n$/);
    await withDb(db, async (s) => {
      expect(await s.getTask(ids.old)).toBeNull();
      expect(await s.getTask(ids.oldQueued)).not.toBeNull();
      expect(await s.getTask(ids.recent)).not.toBeNull();
    });
  });
});

describe('vacuum and checkpoint', () => {
  it('vacuum gives the space of deleted rows back and prints the size before and after', async () => {
    const db = await freshDb();
    await withDb(db, async (s) => {
      await s.enqueueMany(Array.from({ length: 2000 }, (_, i) => ({ type: 'bulk', payload: { i, pad: 'x'.repeat(400) } })));
      s.db.exec('DELETE FROM task_events; DELETE FROM tasks;');
    });
    const before = statSync(db).size;
    const r = await taskwire(['vacuum'], { db });
    expect(r.code, r.stderr).toBe(0);
    const m = /^vacuumed \S+: ([\d.]+) (KB|MB) -> ([\d.]+) KB$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1]) * (m![2] === 'MB' ? 1024 : 1)).toBeGreaterThan(Number(m![3]) * 4);
    expect(statSync(db).size).toBeLessThan(before / 4);
    expect(await withDb(db, (s) => s.maintenance.integrityCheck())).toEqual(['ok']);
  });

  it('checkpoint moves the WAL into the database file and truncates it, beside an open connection', async () => {
    const db = await freshDb();
    // A second process's connection stays open (like a server) so the WAL is not removed on close.
    const other = new SqliteTaskStore({ path: db, tailIntervalMs: 0 });
    try {
      for (let i = 0; i < 200; i++) await other.enqueue({ type: 'w', payload: { i } });
      expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
      const r = await taskwire(['checkpoint'], { db });
      expect(r.code, r.stderr).toBe(0);
      const m = /^checkpointed \S+: WAL ([\d.]+) (B|KB|MB) -> 0 B$/.exec(r.stdout.trim());
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(statSync(`${db}-wal`).size).toBe(0);
      // Everything is in the main file now: a read-only copy of it alone has all the tasks.
      const copy = tmp.file('main-only.db');
      writeFileSync(copy, readFileSync(db));
      expect(new Database(copy, { readonly: true }).prepare('SELECT count(*) FROM tasks').pluck().get()).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('checkpoint held up', () => {
  it('exits 1 and says to try again when a reader keeps it from finishing', async () => {
    const db = await freshDb();
    const writer = new SqliteTaskStore({ path: db, tailIntervalMs: 0 });
    const reader = new Database(db);
    try {
      for (let i = 0; i < 50; i++) await writer.enqueue({ type: 'w', payload: { i } });
      // An open read transaction on the WAL: the log cannot be truncated under it.
      reader.exec('BEGIN');
      expect(reader.prepare('SELECT count(*) FROM tasks').pluck().get()).toBe(50);
      const r = await taskwire(['checkpoint'], { db });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the checkpoint could not finish: another connection was reading or writing; run it again');
      expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
      reader.exec('COMMIT');
    } finally {
      reader.close();
      await writer.close();
    }
  });
});

describe('token commands', () => {
  it('create prints the secret once, list shows it without the secret, revoke ends it', async () => {
    const db = await freshDb();
    const created = await taskwire(['token', 'create', '--role', 'worker', '--name', 'gpu box', '--worker-id', 'gpu-1'], { db });
    expect(created.code, created.stderr).toBe(0);
    const secret = created.stdout.trim();
    expect(secret.length).toBeGreaterThan(20);
    const id = /created token (\S+) \(worker, worker id gpu-1, "gpu box"\)/.exec(created.stderr)![1]!;
    const listed = await taskwire(['token', 'list'], { db });
    expect(rows(listed.stdout)[0]).toEqual(['ID', 'ROLE', 'NAME', 'WORKER ID', 'CREATED', 'REVOKED']);
    expect(rows(listed.stdout)[1]).toEqual([id, 'worker', 'gpu box', 'gpu-1', expect.stringMatching(/^\d{4}-/), '-']);
    expect(listed.stdout).not.toContain(secret);
    const [revoked, missing, badRole] = await Promise.all([
      taskwire(['token', 'revoke', id], { db }),
      taskwire(['token', 'revoke'], { db }),
      taskwire(['token', 'create', '--role', 'root', '--name', 'x'], { db }),
    ]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked token ${id} ("gpu box")`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('give the id of the token to revoke');
    expect(badRole.code).toBe(2);
    expect(await withDb(db, (s) => s.authenticate(secret))).toBeNull();
    expect((await withDb(db, (s) => s.listTokens())).length).toBe(1);
  });
});

describe('queue pause, resume, list', () => {
  it('pauses a queue or one type, which claims then skip, lists them, and resumes', async () => {
    const db = await freshDb('pauses.db');
    const paused = await taskwire(['queue', 'pause', 'media'], { db });
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^queue media is paused \(since \d{4}-/);
    expect((await taskwire(['queue', 'pause', 'default', '--type', 'slow'], { db })).code).toBe(0);
    const list = await taskwire(['queue', 'list', '--json'], { db });
    expect(JSON.parse(list.stdout).map((p: { queue: string; type: string | null }) => [p.queue, p.type])).toEqual([
      ['default', 'slow'],
      ['media', null],
    ]);
    // The engine sees them: nothing of media or of slow is handed out.
    await withDb(db, async (s) => {
      await s.enqueue({ type: 'resize', queue: 'media', payload: {} });
      await s.enqueue({ type: 'slow', payload: {} });
      expect(await s.claim({ workerId: 'w', queue: 'media' })).toEqual([]);
      expect(await s.claim({ workerId: 'w' })).toEqual([]);
    });
    const resumed = await taskwire(['queue', 'resume', 'media'], { db });
    expect(resumed.stdout.trim()).toBe('queue media is not paused');
    await withDb(db, async (s) => expect((await s.claim({ workerId: 'w', queue: 'media' })).length).toBe(1));
    expect((await taskwire(['queue', 'list'], { db })).stdout).toMatch(/^default\s+slow\s+\d{4}-/m);
  });

  it('without a queue name it exits 2 with the usage and pauses nothing', async () => {
    const db = await freshDb('pauses-usage.db');
    const r = await taskwire(['queue', 'pause'], { db });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: taskwire queue pause <queue>/);
    expect((await taskwire(['queue', 'list'], { db })).stdout.trim()).toBe('nothing is paused');
  });
});

describe('bulk cancel, retry, delete', () => {
  it('acts on what the filter matches, in transactions of --batch, until nothing more matches', async () => {
    const db = await freshDb('bulk.db');
    await withDb(db, async (s) => {
      for (let i = 0; i < 5; i++) await s.enqueue({ type: 'spam', payload: { i } });
      await s.enqueue({ type: 'ham', payload: {} });
    });
    const cancelled = await taskwire(['bulk', 'cancel', '--type', 'spam', '--batch', '2'], { db });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout.trim()).toBe('cancelled 5 tasks');
    const retried = await taskwire(['bulk', 'retry', '--status', 'CANCELLED'], { db });
    expect(retried.stdout.trim()).toBe('retried 5 tasks');
    expect(await withDb(db, (s) => s.countTasks({ status: ['QUEUED'] }))).toBe(6);
    expect((await taskwire(['bulk', 'delete'], { db })).stdout.trim()).toBe('deleted 0 tasks');
  });
});

describe('enqueue --on-duplicate', () => {
  it('REPLACE gives the queued task of the key the new payload; an unknown policy exits 2', async () => {
    const db = await freshDb('on-duplicate.db');
    expect((await taskwire(['enqueue', '--type', 'a', '--payload', '{"v":1}', '--idempotency-key', 'k'], { db })).code).toBe(0);
    const again = await taskwire(['enqueue', '--type', 'a', '--payload', '{"v":2}', '--idempotency-key', 'k', '--on-duplicate', 'replace'], { db });
    expect(again.code, again.stderr).toBe(0);
    expect(await withDb(db, async (s) => (await s.getTaskByIdempotencyKey('k'))?.payload)).toEqual({ v: 2 });
    const bad = await taskwire(['enqueue', '--type', 'a', '--payload', '{}', '--idempotency-key', 'k', '--on-duplicate', 'merge'], { db });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--on-duplicate takes RETURN_EXISTING, REPLACE, DEBOUNCE/);
  });
});

describe('tasks update', () => {
  it("changes a queued task's fields; a running one exits 1 with the reason; nothing to change exits 2", async () => {
    const db = await freshDb('update.db');
    const id = await withDb(db, async (s) => (await s.enqueue({ type: 'a', payload: { v: 1 } })).task.id);
    const r = await taskwire(['tasks', 'update', String(id), '--payload', '{"v":2}', '--priority', '3', '--max-attempts', '9'], { db });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^task ${id} updated \\(QUEUED, priority 3, runs after .*, 9 attempts\\)`));
    expect(await withDb(db, async (s) => (await s.getTask(id))?.payload)).toEqual({ v: 2 });
    expect((await taskwire(['tasks', 'update', String(id)], { db })).code).toBe(2);
    await withDb(db, (s) => s.claim({ workerId: 'w' }));
    const running = await taskwire(['tasks', 'update', String(id), '--priority', '1'], { db });
    expect(running.code).toBe(1);
    expect(running.stderr).toMatch(/only QUEUED, BLOCKED or FAILED tasks can be edited/);
  });
});

