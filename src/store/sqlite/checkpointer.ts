/**
 * WAL checkpoints on a thread of their own.
 *
 * With SQLite's automatic checkpoint, the commit that pushes the log past 1000 pages also
 * copies those pages into the database file and fsyncs it, on the connection that
 * committed: in the server that is the event loop, stalled for several milliseconds
 * every few hundred milliseconds under load (the p99 of every request). The server turns
 * the automatic checkpoint off on its connection and runs PASSIVE checkpoints from a
 * second connection in a worker thread instead. PASSIVE never waits for a lock and never
 * blocks a writer; once a checkpoint has copied the whole log, the next write starts the
 * log from the beginning again, so the WAL file stays bounded as before.
 *
 * The worker's code is a small CommonJS string (eval), so it runs the same under tsx,
 * plain node and any bundler, and loads better-sqlite3 from the path this module resolves.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = /* js */ `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
let runs = 0;
const tick = () => {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    runs++;
    parentPort.postMessage({ type: 'checkpoint', runs, log: row.log, checkpointed: row.checkpointed });
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: String(e && e.message || e) });
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'now') return tick();
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface CheckpointReport {
  runs: number;
  /** Frames in the WAL, and how many of them are in the database file. */
  log: number;
  checkpointed: number;
}

export class CheckpointThread {
  private readonly worker: Worker;
  private last: CheckpointReport | null = null;
  private readonly waiting: ((r: CheckpointReport) => void)[] = [];

  constructor(path: string, intervalMs: number, onError: (message: string) => void) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, module } });
    this.worker.unref();
    this.worker.on('message', (m: { type: string; message?: string } & CheckpointReport) => {
      if (m.type === 'error') return onError(m.message ?? 'checkpoint failed');
      this.last = { runs: m.runs, log: m.log, checkpointed: m.checkpointed };
      for (const resolve of this.waiting.splice(0)) resolve(this.last);
    });
    this.worker.on('error', (e) => onError(e.message));
  }

  /** The latest checkpoint's figures (null before the first). */
  get report(): CheckpointReport | null {
    return this.last;
  }

  /** Runs a checkpoint now and resolves with its figures (tests). */
  runNow(): Promise<CheckpointReport> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.worker.postMessage('now');
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    // Held until it exits: an unref'd worker would let a script's event loop run empty
    // while close() awaits it (the process then exits with an unsettled await, code 13).
    this.worker.ref();
    this.worker.postMessage('stop');
    await exited;
  }
}
