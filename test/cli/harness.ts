/**
 * Helpers for the `taskwire` command's tests: run the command as a child process
 * (`node --import tsx src/cli.ts ...`) against a temporary database, and open that
 * database in the test to look at what the command did.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
// The SQLite class itself: the tests look into the file (its connection) beside the command.
import { SqliteTaskStore, type SqliteStoreOptions } from '../../src/store/sqlite/store.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'src', 'cli.ts');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Sets TASKWIRE_DB. */
  db?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Runs `taskwire <args>` to completion; kills it (and fails) past the deadline. */
export function taskwire(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: '', TASKWIRE_DB: options.db, ...options.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`taskwire ${args.join(' ')} did not finish within ${timeoutMs}ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the commands two at a time (this spares a loaded machine); results in the given order. */
export async function taskwireAll(runs: readonly (readonly string[])[], options: RunOptions = {}): Promise<Run[]> {
  const results: Run[] = new Array(runs.length);
  let next = 0;
  const lane = async () => {
    while (next < runs.length) {
      const i = next++;
      results[i] = await taskwire(runs[i]!, options);
    }
  };
  await Promise.all([lane(), lane()]);
  return results;
}

/** A temporary folder for this test file, removed after it. */
export function tempFolder(label: string): { dir: string; file: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), `taskwire-cli-${label}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  return { dir, file: (name: string) => join(dir, `${++n}-${name}`) };
}

/** Opens the database the way a short-lived process would, runs `fn`, closes it. */
export async function withDb<T>(
  path: string,
  fn: (store: SqliteTaskStore) => Promise<T>,
  options: Partial<SqliteStoreOptions> = {},
): Promise<T> {
  const store = new SqliteTaskStore({ path, tailIntervalMs: 0, ...options });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Polls `cond` until it holds or the deadline passes (then throws naming `what`). */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The rows of an aligned table in the command's output: each line split on runs of 2+ spaces. */
export function rows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => l.trim().split(/\s{2,}/));
}

/** The value next to `label` in a two-column table of the output. */
export function field(text: string, label: string): string | undefined {
  return rows(text).find((r) => r[0] === label)?.[1];
}
