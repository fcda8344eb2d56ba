/**
 * Helpers for the multi-process tests: spawn a fixture script as a real OS process
 * (node --import tsx), read its stdout line by line, talk to it over stdin.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function fixturePath(name: string): string {
  return join(ROOT, 'test', 'fixtures', name);
}

export function makeTempDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `taskwire-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  /** Every complete stdout line received so far, in order. */
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  private partial = '';
  private waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  private exitInfo: Exit | null = null;
  private lineListeners: ((line: string, count: number) => void)[] = [];

  constructor(script: string, args: readonly string[]) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', fixturePath(script), ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => this.onData(chunk));
    this.proc.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    // 'close' fires after the stdio streams are drained, so `lines` is complete by then.
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        if (this.partial.length > 0) this.pushLine(this.partial);
        this.partial = '';
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  private onData(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) this.pushLine(line);
  }

  private pushLine(line: string): void {
    this.lines.push(line);
    for (const l of this.lineListeners) l(line, this.lines.length);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  onLine(listener: (line: string, count: number) => void): void {
    this.lineListeners.push(listener);
  }

  /** Resolves with the first line (already received or future) that passes `test`. */
  waitForLine(test: (line: string) => boolean, timeoutMs = 45_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching line within ${timeoutMs} ms; stdout tail: ${this.lines.slice(-5).join(' | ')}; stderr: ${this.stderr}`));
      }, timeoutMs);
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.waiters.push({ test, resolve: done });
      void this.exited.then((exit) => {
        clearTimeout(timer);
        const found = this.lines.find(test);
        if (found !== undefined) resolve(found);
        else reject(new Error(`child exited (${JSON.stringify(exit)}) before a matching line; stderr: ${this.stderr}`));
      });
    });
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exitInfo === null) this.proc.kill(signal);
  }
}

/** Polls `check` until it returns true, or throws after `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs: number, what: string, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
