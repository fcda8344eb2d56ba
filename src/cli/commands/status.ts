/** `taskwire migrate` and `taskwire status`: the database's schema, and the queues' numbers. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isDatabaseUrl } from '../../store/index.js';
import type { Commands } from '../command.js';
import { age, table } from '../format.js';
import { dbOption, dbPath, withStore } from '../store.js';

export const statusCommands: Commands = {
  migrate: {
    summary: 'create or upgrade the database and print its schema version',
    usage: 'taskwire migrate [--db <file>]',
    options: dbOption,
    notes: 'Opening a database applies any pending migrations (each in one transaction); every command and the server do it too.',
    run: async ({ values }) => {
      const location = dbPath(values);
      // A server database is there or not: only a SQLite file is created by opening it.
      const existed = isDatabaseUrl(location) || (existsSync(resolve(location)) && statSync(resolve(location)).size > 0);
      const info = await withStore(values, async (s) => s.info);
      console.log(
        `${existed ? '' : 'created '}${info.location}: schema version ${info.schemaVersion}` +
          (info.schemaVersion === info.latestSchemaVersion ? ' (up to date)' : ` (this Taskwire knows up to ${info.latestSchemaVersion})`),
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
};
