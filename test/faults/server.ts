/**
 * The real server as a child process (`node --import tsx src/cli.ts serve`), configured
 * through the environment exactly as `npm start` is, that a test can SIGKILL, SIGSTOP or
 * restart on the same file and port.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../concurrency/harness.js';
import { gql, sleep, type GqlResult } from './fixtures/gql.js';
import { freePort } from '../../scripts/free-port.js';
export { freePort };

export const CLI = join(ROOT, 'src', 'cli.ts');


/** The environment of this process without any Taskwire setting of the caller's shell. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('TASKWIRE_') && k !== 'PORT' && k !== 'HOST') env[k] = v;
  }
  return { ...env, NODE_OPTIONS: '', ...extra };
}

export interface ServerOptions {
  dbPath: string;
  port: number;
  /** More TASKWIRE_* settings. */
  env?: Record<string, string>;
}

export class ServerProcess {
  proc: ChildProcess | null = null;
  /** Output of every life, for failure messages. */
  output = '';
  lives = 0;
  private exitedPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(readonly options: ServerOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}/graphql`;
  }

  get pid(): number {
    if (!this.proc?.pid) throw new Error('the server is not running');
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc !== null && this.exitInfo === null;
  }

  /** Spawns the server and resolves once /health answers (bounded). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) throw new Error('the server is already running');
    this.lives++;
    const life = this.lives;
    this.exitInfo = null;
    const proc = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: cleanEnv({
        PORT: String(this.options.port),
        HOST: '127.0.0.1',
        TASKWIRE_DB: this.options.dbPath,
        TASKWIRE_LOG_LEVEL: 'warn',
        ...this.options.env,
      }),
    });
    this.proc = proc;
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    this.exitedPromise = new Promise((resolve) => {
      proc.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.output += `\n[life ${life} ended: code ${code}, signal ${signal}]\n`;
        resolve(this.exitInfo);
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitInfo) throw new Error(`the server exited while starting: ${JSON.stringify(this.exitInfo)}\n${this.output.slice(-3000)}`);
      if (await this.healthy(1000)) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`the server did not answer /health within ${timeoutMs} ms\n${this.output.slice(-3000)}`);
      }
      await sleep(25);
    }
  }

  /** Whether GET /health answers 200 within `timeoutMs`. */
  async healthy(timeoutMs = 2000): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.options.port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
      await res.text();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** Sends `signal` and, for a deadly one, waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.proc!.kill(signal);
    if (signal === 'SIGKILL') await this.exited();
  }

  /** SIGSTOP / SIGCONT and the like, without waiting. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.proc!.kill(signal);
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exitedPromise) throw new Error('the server was never started');
    return this.exitedPromise;
  }

  /** Graceful stop (SIGTERM), SIGKILL if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    if (!this.running) return this.exitInfo;
    this.proc!.kill('SIGCONT'); // a stopped process cannot act on SIGTERM
    this.proc!.kill('SIGTERM');
    const timer = setTimeout(() => this.proc?.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited();
    clearTimeout(timer);
    return exit;
  }

  gql<T = any>(query: string, variables?: Record<string, unknown>, timeoutMs?: number): Promise<GqlResult<T>> {
    return gql<T>(this.url, query, variables, timeoutMs);
  }

  /** GraphQL that must succeed: throws with the errors otherwise. */
  async ok<T = any>(query: string, variables?: Record<string, unknown>, timeoutMs?: number): Promise<T> {
    const r = await gql<T>(this.url, query, variables, timeoutMs);
    if (r.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data as T;
  }
}

/** Polls `cond` until it is truthy or `timeoutMs` passes (then throws naming `what`). */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string | (() => string), timeoutMs = 20_000, stepMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${typeof what === 'function' ? what() : what}`);
    await sleep(stepMs);
  }
}

/** The path of a fixture of this folder, for the concurrency harness's Child (which resolves under test/fixtures). */
export function faultFixture(name: string): string {
  return join('..', 'faults', 'fixtures', name);
}

export interface EventRow {
  kind: string;
  at: number;
  worker_id: string | null;
}

/** A task's outbox rows, read from the file beside the running server (WAL lets a reader in). */
export function taskEvents(dbPath: string, taskId: number): EventRow[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT kind, at, worker_id FROM task_events WHERE task_id = ? ORDER BY id').all(taskId) as EventRow[];
  } finally {
    db.close();
  }
}

/** integrity_check of the file (after the server stopped). */
export function integrity(dbPath: string): string {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}
