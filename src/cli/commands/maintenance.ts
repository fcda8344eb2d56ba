/**
 * Keeping the database: `backup`, `cleanup`, `vacuum`, `checkpoint`. All but cleanup are
 * jobs of the store's back end (store.maintenance); on one without the job the command
 * says it does not apply and exits 1.
 */
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { FINISHED_STATUSES } from '../../store/index.js';
import { Failure, UsageError, durationOption, type Commands } from '../command.js';
import { bytes, time } from '../format.js';
import { dbOption, maintenanceJob, withStore } from '../store.js';

export const maintenanceCommands: Commands = {
  backup: {
    summary: 'copy the database to a file, online (a running server keeps working), and check the copy',
    usage: 'taskwire backup <file> [--force] [--db <file>]',
    options: { force: { type: 'boolean', description: 'overwrite <file> if it exists' }, ...dbOption },
    args: { file: 'the file to write the copy to, e.g. backup-$(date +%F).db' },
    notes: "The copy is one self-contained file; it is then opened read-only for the back end's integrity check.",
    run: async ({ values, positionals }) => {
      const dest = resolve(positionals[0]!);
      const { source, result } = await withStore(values, async (s) => {
        const backup = maintenanceJob(s, 'backup');
        // The store refuses this too, but --force removes the file first: check before that.
        if (dest === resolve(s.info.location)) throw new UsageError('the backup file must not be the database itself');
        if (existsSync(dest) && !values.force) {
          throw new Failure(`${dest} already exists; choose another file, or pass --force to overwrite it`);
        }
        rmSync(dest, { force: true });
        return { source: s.info.location, result: await backup(dest) };
      });
      const problems = result.integrity;
      if (problems.length !== 1 || problems[0] !== 'ok') {
        throw new Failure(`the copy at ${dest} failed its integrity check:\n  ${problems.slice(0, 20).join('\n  ')}`);
      }
      console.log(
        `backed up ${source} to ${dest}: ${bytes(result.bytes)}, integrity ok, ${result.tasks} tasks, schema version ${result.schemaVersion}`,
      );
    },
  },

  cleanup: {
    summary: `delete finished tasks (${FINISHED_STATUSES.join(', ')}) older than a duration, with their logs and events`,
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
      const { location, bytesBefore, bytesAfter } = await withStore(values, async (s) => ({
        location: s.info.location,
        ...(await maintenanceJob(s, 'vacuum')()),
      }));
      console.log(`vacuumed ${location}: ${bytes(bytesBefore)} -> ${bytes(bytesAfter)}`);
    },
  },

  checkpoint: {
    summary: 'copy the write-ahead log into the database file and truncate it',
    usage: 'taskwire checkpoint [--db <file>]',
    options: dbOption,
    run: async ({ values }) => {
      const { location, r } = await withStore(values, async (s) => ({
        location: s.info.location,
        // null: there is no log to move (a database in memory).
        r: (await maintenanceJob(s, 'checkpoint')()) ?? { busy: false, logBytesBefore: 0, logBytesAfter: 0 },
      }));
      if (r.busy) {
        throw new Failure('the checkpoint could not finish: another connection was reading or writing; run it again when the queue is quieter');
      }
      console.log(`checkpointed ${location}: WAL ${bytes(r.logBytesBefore)} -> ${bytes(r.logBytesAfter)}`);
    },
  },
};
