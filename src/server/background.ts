/**
 * The server's background work on one timer. Every sweep interval: expired leases,
 * timeouts and stale workers (sweep), then due schedules. Every upkeep interval: a
 * checkpoint of the store's log when it has grown large. Every retention period: removal
 * of finished tasks and old outbox rows, and a refresh of the query planner's statistics.
 * The upkeep jobs are the store's maintenance capabilities: a back end without one skips
 * it. Each upkeep run is logged and counted in the metrics.
 */
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { DEFAULTS, TaskwireError, type TaskStore } from '../store/index.js';

export interface UpkeepOptions {
  /** Finished tasks (and outbox rows) older than this are removed. */
  retentionMs: number;
  /** The outbox keeps at most this many rows. */
  maxEvents: number;
  /** Checkpoint when the write-ahead log is larger than this. */
  walCheckpointBytes: number;
  /** How often the log size is checked. */
  intervalMs: number;
  /** How often retention, trimming and optimize run. */
  retentionEveryMs: number;
}

export const UPKEEP_DEFAULTS: UpkeepOptions = {
  retentionMs: DEFAULTS.retentionMs,
  maxEvents: 1_000_000,
  walCheckpointBytes: 64 * 1024 * 1024,
  intervalMs: 60_000,
  retentionEveryMs: 3_600_000,
};

export interface BackgroundOptions extends UpkeepOptions {
  /** How often the sweep and the scheduler run. */
  sweepIntervalMs: number;
}

/** A sweep job skipped by BUSY for this many beats in a row, and at least STARVED_MIN_MS, is worth a warning. */
const STARVED_BEATS = 5;
const STARVED_MIN_MS = 5000;

export class Background {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** When each kind of job last ran (ms); -Infinity: due on the first tick. */
  /** When the sweep and the scheduler last ran to the end (ms): how long BUSY has starved them. */
  private readonly ranAt: { sweep?: number; scheduler?: number } = {};
  private readonly last = { sweep: Number.NEGATIVE_INFINITY, upkeep: Number.NEGATIVE_INFINITY, retention: Number.NEGATIVE_INFINITY };

  constructor(
    private readonly store: TaskStore,
    private readonly log: Logger,
    private readonly metrics: Metrics | null,
    private readonly options: BackgroundOptions,
  ) {}

  /**
   * The timer beats at the shorter of the two intervals. The first upkeep, and the first
   * retention run, come one upkeep interval after start: start-up stays light.
   */
  start(): void {
    const period = Math.min(this.options.sweepIntervalMs, this.options.intervalMs);
    const now = Date.now();
    this.last.upkeep = now;
    this.last.retention = now - this.options.retentionEveryMs + this.options.intervalMs;
    this.timer = setInterval(() => void this.tick(), period);
    this.timer.unref();
  }

  /** Stops the timer; resolves when a tick in progress has finished. */
  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.running ?? Promise.resolve();
  }

  /** One beat: runs what is due at `now`. Never throws: failures are logged. */
  tick(now = Date.now()): Promise<void> {
    if (this.running) return this.running;
    this.running = this.beat(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async beat(now: number): Promise<void> {
    if (this.due('sweep', now, this.options.sweepIntervalMs)) await this.sweep(now);
    if (this.due('retention', now, this.options.retentionEveryMs)) await this.retention();
    if (this.due('upkeep', now, this.options.intervalMs)) await this.checkpoint();
  }

  /**
   * Whether `every` ms have passed since the job last ran (and if so, marks it run). Half a
   * timer period of slack: a beat that fires a little early must not skip a whole period.
   */
  private due(job: keyof Background['last'], now: number, every: number): boolean {
    const slack = Math.min(this.options.sweepIntervalMs, this.options.intervalMs) / 2;
    if (now - this.last[job] < every - slack) return false;
    this.last[job] = now;
    return true;
  }

  /**
   * Expired leases, timeouts, stale workers, due schedules. Each job waits only briefly for
   * the write lock; if another process holds it, the beat skips the rest (BUSY) and the
   * next one tries again. With several servers on one file a skipped beat is ordinary
   * contention, logged at debug; a job that has not run for STARVED_BEATS beats (at least
   * 5 s) is starved, and that is a warning.
   */
  private async sweep(now: number): Promise<void> {
    for (const [name, job] of [
      ['sweep', () => this.store.sweep()],
      ['scheduler', () => this.store.fireDueSchedules()],
    ] as const) {
      try {
        await job();
        this.ranAt[name] = now;
      } catch (e) {
        if (e instanceof TaskwireError && e.code === 'BUSY') {
          const lastRan = (this.ranAt[name] ??= now);
          const starvedMs = now - lastRan;
          const starved = starvedMs >= Math.max(STARVED_MIN_MS, STARVED_BEATS * this.options.sweepIntervalMs);
          return this.log[starved ? 'warn' : 'debug']({ job: name, starvedMs }, `database busy: ${name} skipped this tick`);
        }
        this.log.warn({ err: e, job: name }, `${name} failed`);
      }
    }
  }

  private async retention(): Promise<void> {
    const { retentionMs, maxEvents } = this.options;
    await this.job('cleanup', async () => {
      const r = await this.store.cleanup(retentionMs, { background: true });
      this.metrics?.upkeepRemoved.inc({ what: 'tasks' }, r.tasks);
      this.metrics?.upkeepRemoved.inc({ what: 'logs' }, r.logs);
      this.metrics?.upkeepRemoved.inc({ what: 'events' }, r.events);
      return r;
    });
    await this.job('trim-events', async () => {
      const events = await this.store.trimEvents(retentionMs, maxEvents, { background: true });
      this.metrics?.upkeepRemoved.inc({ what: 'events' }, events);
      return { events };
    });
    const maintenance = this.store.maintenance;
    if (maintenance.optimize) {
      await this.job('optimize', async () => {
        await maintenance.optimize!();
        return {};
      });
    }
  }

  /** The store answers null when its log is not over the threshold: nothing ran, nothing to log. */
  private async checkpoint(): Promise<void> {
    const maintenance = this.store.maintenance;
    if (!maintenance.checkpoint) return;
    await this.job('checkpoint', () => maintenance.checkpoint!({ ifLargerThan: this.options.walCheckpointBytes }));
  }

  /** Runs one upkeep job, then logs and counts it; a null result means it had nothing to do. */
  private async job(name: string, fn: () => Promise<object | null>): Promise<void> {
    const started = performance.now();
    try {
      const result = await fn();
      if (result === null) return;
      this.metrics?.upkeepRuns.inc({ job: name, outcome: 'ok' });
      this.log.info({ job: name, ms: Math.round(performance.now() - started), ...result }, `upkeep: ${name}`);
    } catch (e) {
      this.metrics?.upkeepRuns.inc({ job: name, outcome: 'error' });
      if (e instanceof TaskwireError && e.code === 'BUSY' && (name === 'cleanup' || name === 'trim-events')) {
        // Another process holds the database: try again on the next beat, not a period later.
        this.last.retention = Number.NEGATIVE_INFINITY;
        this.log.warn({ job: name }, `database busy: ${name} skipped this tick`);
        return;
      }
      this.log.warn({ job: name, err: e }, `upkeep: ${name} failed`);
    }
  }
}
