/**
 * Shared by the scheduling tests: an injected clock, temp directories, child processes
 * running the scripts in ./fixtures (node --import tsx), and bounded waits.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export const iso = (ms: number) => new Date(ms).toISOString();
export const at = (s: string) => Date.parse(s);

/** A temporary directory that the caller removes (for use outside a test, e.g. in beforeAll). */
export function makeTempDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `taskwire-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temporary directory, removed when the current test finishes. */
export function tempDir(label = 'sched'): string {
  const dir = mkdtempSync(join(tmpdir(), `taskwire-${label}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A clock the test moves by hand. */
export class Clock {
  constructor(public t: number) {}
  readonly now = (): number => this.t;
}

/** Polls `cond` until it holds or `timeoutMs` passes, then throws naming `what`. */
export async function until<T>(cond: () => T | Promise<T>, what: string | (() => string), timeoutMs = 10_000, stepMs = 5): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A fixture script from ./fixtures running as its own OS process, line-based on stdin/stdout. */
export class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';
  private done = false;

  /** Killed when the current test finishes, unless `manual` (then the caller kills it, e.g. in afterAll). */
  constructor(script: string, args: readonly string[], manual = false) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, script), ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    });
    this.proc.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) =>
      this.proc.on('close', (code, signal) => {
        if (this.partial) this.lines.push(this.partial);
        this.done = true;
        resolve({ code, signal });
      }),
    );
    if (!manual) onTestFinished(() => this.kill());
  }

  /** The first line (already received or future) that passes `test`; fails fast if the child dies or reports ERROR. */
  async line(test: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    return until(
      () => {
        const found = this.lines.find(test);
        if (found !== undefined) return found;
        const error = this.lines.find((l) => l.startsWith('ERROR'));
        if (error || this.done) throw new Error(`child ${error ?? 'exited'} before a matching line; stderr: ${this.stderr.slice(-2000)}`);
        return undefined;
      },
      () => `a line from the child; last lines: ${this.lines.slice(-3).join(' | ')}; stderr: ${this.stderr.slice(-1000)}`,
      timeoutMs,
      2,
    );
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }

  kill(): void {
    if (!this.done) this.proc.kill('SIGKILL');
  }
}
