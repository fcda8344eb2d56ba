/**
 * Queue control: `queue pause`, `queue resume`, `queue list`. A running server on the same
 * database sees the change through the outbox: its paused claims stop, and its waiting
 * claims wake on a resume.
 */
import { UsageError, type Commands } from '../command.js';
import { table, time } from '../format.js';
import { dbOption, withStore } from '../store.js';

const typeOption = { type: { type: 'string' as const, arg: 'type', description: 'only this type in the queue (default: the whole queue)' } };

function pauseCommand(pause: boolean): Commands[string] {
  const verb = pause ? 'pause' : 'resume';
  return {
    summary: pause
      ? 'pause a queue (or one type in it): enqueues go on, claims hand out nothing until it is resumed'
      : 'resume a paused queue (or type): waiting workers get its tasks at once',
    usage: `taskwire queue ${verb} <queue> [--type <type>] [--db <file>]`,
    options: { ...typeOption, ...dbOption },
    args: { queue: 'the queue, e.g. default' },
    run: async ({ values, positionals }) => {
      const queue = positionals[0];
      if (!queue) throw new UsageError(`name the queue to ${verb}`);
      const input = { queue, type: (values.type as string | undefined) ?? null };
      const p = await withStore(values, (s) => (pause ? s.pauseQueue(input) : s.resumeQueue(input)));
      const what = p.type === null ? `queue ${p.queue}` : `type ${p.type} in queue ${p.queue}`;
      console.log(p.paused ? `${what} is paused (since ${time(p.pausedAt)})` : `${what} is not paused`);
    },
  };
}

export const queueCommands: Commands = {
  'queue pause': pauseCommand(true),
  'queue resume': pauseCommand(false),
  'queue list': {
    summary: 'list the paused queues and types',
    usage: 'taskwire queue list [--json] [--db <file>]',
    options: { json: { type: 'boolean', description: 'one JSON array' }, ...dbOption },
    run: async ({ values }) => {
      const pauses = await withStore(values, (s) => s.listPauses());
      if (values.json) return console.log(JSON.stringify(pauses));
      if (pauses.length === 0) return console.log('nothing is paused');
      console.log(table(pauses.map((p) => [p.queue, p.type ?? '(all types)', time(p.pausedAt)]), ['QUEUE', 'TYPE', 'PAUSED SINCE']));
    },
  },
};
