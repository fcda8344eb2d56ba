/**
 * The `taskwire` command. Each command opens the database named by TASKWIRE_DB (or
 * --db), does one thing through the engine, and exits with a code scripts can rely on:
 * 0 done, 1 the operation failed, 2 the command line or configuration is wrong.
 *
 * The framework (parsing, help, exit codes) is in cli/command.ts, the commands in
 * cli/commands/, one file per family; this file lists them and runs one.
 */
import { dispatch, type Commands } from './cli/command.js';
import { bulkCommands } from './cli/commands/bulk.js';
import { maintenanceCommands } from './cli/commands/maintenance.js';
import { queueCommands } from './cli/commands/queues.js';
import { serveCommands } from './cli/commands/serve.js';
import { statusCommands } from './cli/commands/status.js';
import { taskCommands } from './cli/commands/tasks.js';
import { tokenCommands } from './cli/commands/tokens.js';

/** In the order `taskwire --help` lists them. */
const commands: Commands = { ...serveCommands, ...statusCommands, ...taskCommands, ...bulkCommands, ...queueCommands, ...maintenanceCommands, ...tokenCommands };

export function main(argv: string[]): Promise<number> {
  return dispatch(commands, argv);
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
