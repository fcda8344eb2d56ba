/**
 * Prometheus metrics (prom-client) at /metrics. Counters follow the outbox, so they count
 * what any process did to the database (a second server, the CLI), not just this one;
 * gauges that describe the database are read from it when Prometheus scrapes.
 *
 * Made in two steps: the counters first, since the store counts its BUSY errors into one
 * from the moment it opens; then `observe(store, ...)` adds what is read from the store.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoredEvent, TaskStore } from '../store/index.js';

export interface ConnectionStats {
  webSockets(): number;
  subscriptions(): number;
}

const COUNTED: Record<string, string> = {
  ENQUEUED: 'enqueued',
  CLAIMED: 'claimed',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  RETRY_SCHEDULED: 'retried',
};

export class Metrics {
  readonly registry = new Registry();
  readonly claimLatency: Histogram<'queue'>;
  readonly busyErrors: Counter;
  readonly upkeepRuns: Counter<'job' | 'outcome'>;
  readonly upkeepRemoved: Counter<'what'>;
  private readonly taskTransitions: Counter<'event' | 'queue' | 'type'>;
  private unsubscribe: () => void = () => {};

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'taskwire_process_' });

    this.taskTransitions = new Counter({
      name: 'taskwire_task_events_total',
      help: 'Task state changes by kind (enqueued, claimed, succeeded, failed, retried), queue and type',
      labelNames: ['event', 'queue', 'type'],
      registers,
    });
    this.claimLatency = new Histogram({
      name: 'taskwire_claim_duration_seconds',
      help: 'Time to claim tasks in the engine (one transaction), excluding long-poll waits',
      labelNames: ['queue'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    });
    this.busyErrors = new Counter({
      name: 'taskwire_sqlite_busy_total',
      help: 'Writes that gave up waiting for the database lock (SQLITE_BUSY after the busy timeout)',
      registers,
    });
    this.upkeepRuns = new Counter({
      name: 'taskwire_upkeep_runs_total',
      help: 'Upkeep jobs run inside the server (cleanup, outbox trim, checkpoint, optimize)',
      labelNames: ['job', 'outcome'],
      registers,
    });
    this.upkeepRemoved = new Counter({
      name: 'taskwire_upkeep_removed_total',
      help: 'Rows removed by retention (tasks, logs, events)',
      labelNames: ['what'],
      registers,
    });
  }

  /** The gauges read from the store and the connections, and the counters fed by its outbox. */
  observe(store: TaskStore, connections: ConnectionStats): this {
    const registers = [this.registry];
    new Gauge({
      name: 'taskwire_tasks',
      help: 'Tasks by status, queue and type',
      labelNames: ['status', 'queue', 'type'],
      registers,
      async collect() {
        this.reset();
        for (const c of await store.taskCounts()) this.set({ status: c.status, queue: c.queue, type: c.type }, c.count);
      },
    });
    new Gauge({
      name: 'taskwire_oldest_queued_age_seconds',
      help: 'Age of the oldest QUEUED task (0 when none)',
      registers,
      async collect() {
        this.set((await store.stats()).oldestQueuedAgeSeconds ?? 0);
      },
    });
    new Gauge({
      name: 'taskwire_workers_active',
      help: 'Workers with a recent heartbeat or claim',
      registers,
      async collect() {
        this.set((await store.listWorkers(['ACTIVE'])).length);
      },
    });
    new Gauge({
      name: 'taskwire_websocket_connections',
      help: 'Open graphql-ws connections',
      registers,
      collect() {
        this.set(connections.webSockets());
      },
    });
    new Gauge({
      name: 'taskwire_subscriptions',
      help: 'Operations running on graphql-ws connections',
      registers,
      collect() {
        this.set(connections.subscriptions());
      },
    });
    new Gauge({
      name: 'taskwire_database_bytes',
      help: 'Size of the database file and of its write-ahead log',
      labelNames: ['file'],
      registers,
      async collect() {
        this.reset();
        for (const [file, bytes] of Object.entries(await store.maintenance.sizes())) this.set({ file }, bytes);
      },
    });

    this.unsubscribe = store.bus.subscribe((e: StoredEvent) => {
      const name = COUNTED[e.kind];
      if (name) this.taskTransitions.inc({ event: name, queue: e.queue ?? '', type: e.type ?? '' });
    });
    return this;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.unsubscribe();
  }
}
