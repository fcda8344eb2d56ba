/**
 * Upkeep inside the server: retention of finished tasks, trimming the outbox, a WAL
 * checkpoint when the log grows large, and PRAGMA optimize. Each run is logged and
 * counted in the metrics.
 */
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { TaskStore } from './store/index.js';
import { statSync } from 'node:fs';

export interface UpkeepOptions {
  /** Finished tasks (and outbox rows) older than this are removed. */
  retentionMs: number;
  /** The outbox keeps at most this many rows. */
  maxEvents: number;
  /** Checkpoint (TRUNCATE) when the WAL file is larger than this. */
  walCheckpointBytes: number;
  /** How often the WAL size is checked. */
  intervalMs: number;
  /** How often retention, trimming and optimize run. */
  retentionEveryMs: number;
}

export const UPKEEP_DEFAULTS: UpkeepOptions = {
  retentionMs: 7 * 86_400_000,
  maxEvents: 1_000_000,
  walCheckpointBytes: 64 * 1024 * 1024,
  intervalMs: 60_000,
  retentionEveryMs: 3_600_000,
};

export class Upkeep {
  private timer: NodeJS.Timeout | null = null;
  private lastRetention = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: TaskStore,
    private readonly log: Logger,
    private readonly metrics: Metrics | null,
    private readonly options: UpkeepOptions = UPKEEP_DEFAULTS,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.running ?? Promise.resolve();
  }

  /** One pass; retention runs only when it is due. Never throws: failures are logged. */
  tick(now = Date.now()): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      if (now - this.lastRetention >= this.options.retentionEveryMs) {
        this.lastRetention = now;
        await this.job('cleanup', async () => {
          const r = await this.store.cleanup(this.options.retentionMs);
          this.metrics?.upkeepRemoved.inc({ what: 'tasks' }, r.tasks);
          this.metrics?.upkeepRemoved.inc({ what: 'logs' }, r.logs);
          this.metrics?.upkeepRemoved.inc({ what: 'events' }, r.events);
          return r;
        });
        await this.job('trim-events', async () => {
          const events = await this.store.trimEvents(this.options.retentionMs, this.options.maxEvents);
          this.metrics?.upkeepRemoved.inc({ what: 'events' }, events);
          return { events };
        });
        await this.job('optimize', async () => {
          await this.store.optimize();
          return {};
        });
      }
      const path = this.store.info.path;
      if (path !== ':memory:' && walSize(path) > this.options.walCheckpointBytes) {
        await this.job('checkpoint', () => this.store.checkpoint());
      }
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async job(name: string, fn: () => Promise<object>): Promise<void> {
    const started = performance.now();
    try {
      const result = await fn();
      this.metrics?.upkeepRuns.inc({ job: name, outcome: 'ok' });
      this.log.info({ job: name, ms: Math.round(performance.now() - started), ...result }, `upkeep: ${name}`);
    } catch (e) {
      this.metrics?.upkeepRuns.inc({ job: name, outcome: 'error' });
      this.log.warn({ job: name, err: e }, `upkeep: ${name} failed`);
    }
  }
}

function walSize(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}
