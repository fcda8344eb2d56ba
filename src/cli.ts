/**
 * The `taskwire` command. Each command opens the database named by TASKWIRE_DB (or
 * --db), does one thing through the engine, and exits with a code scripts can rely on:
 * 0 done, 1 the operation failed, 2 the command line or configuration is wrong.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from './config.js';
import { serve } from './server.js';
import { SqliteTaskStore, TaskwireError, type Role } from './store/index.js';

interface Command {
  summary: string;
  usage: string;
  options?: ParseArgsConfig['options'];
  run(args: { values: Record<string, unknown>; positionals: string[] }): Promise<void>;
}

class UsageError extends Error {}

function openStore(values: Record<string, unknown>): SqliteTaskStore {
  const path = (values.db as string | undefined) ?? process.env.TASKWIRE_DB ?? './data/taskwire.db';
  const sync = (process.env.TASKWIRE_SYNC ?? 'normal').toLowerCase() === 'full' ? 'full' : 'normal';
  // No outbox tailing: a command writes and exits; a running server picks its events up.
  return new SqliteTaskStore({ path, synchronous: sync, tailIntervalMs: 0 });
}

async function withStore<T>(values: Record<string, unknown>, fn: (store: SqliteTaskStore) => Promise<T>): Promise<T> {
  const store = openStore(values);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const dbOption = { db: { type: 'string' as const, description: 'database file (default: $TASKWIRE_DB or ./data/taskwire.db)' } };

const ROLES: Role[] = ['admin', 'producer', 'worker', 'viewer'];

const commands: Record<string, Command> = {
  serve: {
    summary: 'run the server (what `npm start` runs)',
    usage: 'taskwire serve            (configured by PORT, HOST, TASKWIRE_DB, ... see README)',
    run: () => serve(),
  },
  'token create': {
    summary: 'create an API token; prints it once',
    usage: 'taskwire token create --role <admin|producer|worker|viewer> --name <name> [--worker-id <id>] [--db <file>]',
    options: { ...dbOption, role: { type: 'string' }, name: { type: 'string' }, 'worker-id': { type: 'string' } },
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
      console.log(['id', 'role', 'name', 'worker id', 'created', 'revoked'].join('\t'));
      for (const t of tokens) {
        console.log(
          [t.id, t.role, t.name, t.workerId ?? '-', new Date(t.createdAt).toISOString(), t.revokedAt ? new Date(t.revokedAt).toISOString() : '-'].join('\t'),
        );
      }
    },
  },
  'token revoke': {
    summary: 'revoke an API token by id',
    usage: 'taskwire token revoke <id> [--db <file>]',
    options: dbOption,
    run: async ({ values, positionals }) => {
      const id = positionals[0];
      if (!id) throw new UsageError('give the id of the token to revoke (see `taskwire token list`)');
      const t = await withStore(values, (s) => s.revokeToken(id));
      console.log(`revoked token ${t.id} ("${t.name}"); it stops working within a second`);
    },
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  return [
    'usage: taskwire <command> [options]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'taskwire <command> --help shows a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(help());
    return 0;
  }
  const two = `${argv[0]} ${argv[1] ?? ''}`.trim();
  const name = commands[two] ? two : argv[0]!;
  const command = commands[name];
  if (!command) {
    console.error(`taskwire: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${help()}`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\nusage: ${command.usage}`);
    return 0;
  }
  try {
    const parsed = parseArgs({ args: rest, options: command.options ?? {}, allowPositionals: true, strict: true });
    await command.run({ values: parsed.values as Record<string, unknown>, positionals: parsed.positionals });
    return 0;
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`taskwire ${name}: ${(e as Error).message}\nusage: ${command.usage}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      console.error(`taskwire: ${e.message}`);
      return 2;
    }
    if (e instanceof TaskwireError) {
      console.error(`taskwire ${name}: ${e.message} (${e.code})`);
      return e.code === 'VALIDATION' ? 2 : 1;
    }
    throw e;
  }
}

// `serve` keeps running until a signal; every other command exits with its code.
const args = process.argv.slice(2);
const code = await main(args);
if (args[0] !== 'serve' || code !== 0) process.exit(code);
