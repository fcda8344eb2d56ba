/**
 * The command framework: what a command declares (options, positional arguments, help),
 * how a command line finds its command and is parsed, the help texts, and the exit codes:
 * 0 done, 1 the operation failed, 2 the command line or configuration is wrong.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { parseDuration } from '../duration.js';
import { TaskwireError } from '../store/index.js';
import { table } from './format.js';

export type Values = Record<string, string | boolean | undefined>;

export interface Option {
  type: 'string' | 'boolean';
  /** What `--help` shows after the option's name: `--name <arg>  description`. */
  arg?: string;
  description: string;
}

export interface Command {
  summary: string;
  usage: string;
  options?: Record<string, Option>;
  /** Positional arguments, in order: name -> what to give (shown when it is missing). */
  args?: Record<string, string>;
  /** Shown after the options by `--help`. */
  notes?: string;
  run(args: { values: Values; positionals: string[] }): Promise<void>;
}

/** Commands by name; a two-word name ("tasks list") is a subcommand of a group. */
export type Commands = Record<string, Command>;

/** The command line is wrong: exit 2 with the usage. */
export class UsageError extends Error {}
/** The operation ran and did not succeed: exit 1. */
export class Failure extends Error {}
/** The command does not apply to this back end (the message names what to use instead): exit 2. */
export class NotApplicable extends Error {}

// ---------------------------------------------------------------- option values

/** "30s", "15m", "12h", "7d" -> milliseconds, or a usage error naming the flag. */
export function durationOption(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new UsageError(`${flag} takes a duration such as 30s, 15m, 12h or 7d (got "${text}")`);
  return ms;
}

export function parseInteger(text: string, flag: string, min = Number.MIN_SAFE_INTEGER): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} takes a whole number${min > 0 ? ` of at least ${min}` : ''} (got "${text}")`);
  }
  return n;
}

export function parseTaskId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`a task id is a number such as 42 (got "${text}")`);
  }
  return Number(text);
}

/** "a, b,,c" -> ['a', 'b', 'c']; undefined when the option was not given. */
export function list(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

// ---------------------------------------------------------------- help

function help(commands: Commands, prefix = ''): string {
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

function commandHelp(name: string, c: Command): string {
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

// ---------------------------------------------------------------- dispatch

function findCommand(commands: Commands, argv: readonly string[]): string | null {
  const two = `${argv[0]} ${argv[1] ?? ''}`.trim();
  if (commands[two]) return two;
  return commands[argv[0]!] ? argv[0]! : null;
}

/** Runs the command the arguments name; resolves with the exit code. */
export async function dispatch(commands: Commands, argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || (argv[0] === 'help' && argv.length === 1)) {
    console.log(help(commands));
    return 0;
  }
  const asksHelp = argv[0] === 'help';
  const name = findCommand(commands, asksHelp ? argv.slice(1) : argv);
  if (!name) {
    const words = (asksHelp ? argv.slice(1) : argv).slice(0, 2);
    // "taskwire tasks" or "taskwire token foo": show that group's commands.
    const group = Object.keys(commands).some((k) => k.startsWith(`${words[0]} `)) ? `${words[0]} ` : '';
    if (asksHelp && group && words.length === 1) {
      console.log(help(commands, group));
      return 0;
    }
    const problem = group && words.length === 1 ? `"${words[0]}" needs a subcommand` : `unknown command "${words.join(' ')}"`;
    console.error(`taskwire: ${problem}\n\n${help(commands, group)}`);
    return 2;
  }
  const command = commands[name]!;
  const rest = argv.slice(name.split(' ').length + (asksHelp ? 1 : 0));
  if (asksHelp || rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(name, command));
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
    return report(name, command, e);
  }
}

/** Says what went wrong, on stderr, and picks the exit code. */
function report(name: string, command: Command, e: unknown): number {
  const usage = `usage: ${command.usage}\n(taskwire ${name} --help for details)`;
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`taskwire ${name}: ${(e as Error).message}\n${usage}`);
    return 2;
  }
  if (e instanceof ConfigError || e instanceof NotApplicable) {
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
    // A database that cannot be opened (bad URL, refused, wrong login) is the caller's setting.
    return e.code === 'VALIDATION' || e.details?.field === 'database' ? 2 : 1;
  }
  console.error(`taskwire ${name}: ${e instanceof Failure ? '' : 'failed: '}${(e as Error).message}`);
  return 1;
}
