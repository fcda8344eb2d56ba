/**
 * Bulk actions by filter: `bulk cancel`, `bulk retry`, `bulk delete`. Each runs the
 * engine's bounded calls one after another (each its own transaction, going on after
 * the last task it read) until nothing more matches, and prints the totals.
 */
import { parseInteger, type Commands } from '../command.js';
import { dbOption, withStore } from '../store.js';
import { filterOf, filterOptions } from './tasks.js';

const ACTIONS = {
  cancel: { past: 'cancelled', what: 'QUEUED, BLOCKED and RUNNING tasks (a running one is asked to stop)' },
  retry: { past: 'retried', what: 'FAILED and CANCELLED tasks' },
  delete: { past: 'deleted', what: 'finished tasks, with their logs' },
} as const;

function bulkCommand(action: keyof typeof ACTIONS): Commands[string] {
  const { past, what } = ACTIONS[action];
  return {
    summary: `${action} the ${what} a filter matches`,
    usage: `taskwire bulk ${action} [--status <S,...>] [--type <t,...>] [--queue <name>] [--batch <n>] [--db <file>]`,
    options: { ...filterOptions, batch: { type: 'string', arg: 'n', description: 'tasks per transaction (default 500, at most 1000)' }, ...dbOption },
    run: async ({ values }) => {
      const filter = filterOf(values);
      const limit = values.batch === undefined ? null : parseInteger(values.batch as string, '--batch', 1);
      const total = await withStore(values, async (s) => {
        let changed = 0;
        let skipped = 0;
        let after: number | null = null;
        for (;;) {
          const r = await s.bulk(action, filter, { limit, after });
          changed += r.changed;
          skipped += r.skipped;
          if (!r.hasMore) return { changed, skipped };
          after = r.lastId;
        }
      });
      const plural = (n: number) => `${n} task${n === 1 ? '' : 's'}`;
      console.log(`${past} ${plural(total.changed)}${total.skipped > 0 ? `; left ${plural(total.skipped)} that had changed or were asked already` : ''}`);
    },
  };
}

export const bulkCommands: Commands = {
  'bulk cancel': bulkCommand('cancel'),
  'bulk retry': bulkCommand('retry'),
  'bulk delete': bulkCommand('delete'),
};
