/**
 * The PostgreSQL event feed: every committed outbox row of every instance, numbered once
 * (feed_step, migration 002) and published to this instance's bus in pos order.
 *
 * A step numbers what is committed and unnumbered and reads every event after the last
 * published pos, in one statement (feed_step) per page. Steps run one at a time per
 * instance and are woken by:
 * - this instance's commits: write() waits for a step that began after its COMMIT, so
 *   its events are on the bus when the caller hears back (as on SQLite);
 * - other instances: a step that numbered rows sends one NOTIFY on the schema's channel
 *   as it commits (from inside feed_step: numbering steps take turns on event_sequence
 *   anyway, so the NOTIFY's commit lock makes no writer wait; a NOTIFY inside a write
 *   transaction would serialize every notifying commit of the cluster on one lock); the
 *   listener here wakes a step, which reads the rows (and numbers any the writer's
 *   instance has not yet: any instance may number any committed row);
 * - a slow timer, for a lost notification, a listener that is reconnecting, or an
 *   instance that died between its COMMIT and its step.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { EventBus } from '../../events/bus.js';
import { SerialSteps } from '../../events/serial-steps.js';
import { clientConfig, type Connections, type PostgresSettings } from './connection.js';
import { feedStep, lastEventPos } from './queries/outbox.js';

/** Batches (one per transaction) numbered per step, and events read per step. */
const SEQUENCE_BATCH = 5000;
const PAGE = 1000;
/** Listener reconnect backoff bounds (ms). */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

export interface FeedOptions {
  /** How often to look without a wake-up (ms); 0: never (tests step by hand). */
  pollIntervalMs: number;
  /** LISTEN for other instances' wake-ups. */
  listen: boolean;
  onError: (message: string) => void;
}

export class PgFeed {
  /** This instance's name on the channel: its own notifications wake nothing. */
  private readonly instance = randomUUID();
  readonly channel: string;
  private readonly steps = new SerialSteps(() => this.step());
  private timer: NodeJS.Timeout | null = null;
  private listener: pg.Client | null = null;
  private reconnectMs = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Listener state, for /health and tests. */
  listening = false;

  constructor(
    private readonly db: Connections,
    private readonly settings: PostgresSettings,
    private readonly bus: EventBus,
    private readonly options: FeedOptions,
  ) {
    this.channel = `taskwire_${settings.schema}`.slice(0, 63);
  }

  async start(): Promise<void> {
    this.bus.startAt(await lastEventPos(this.db));
    if (this.options.listen) await this.connectListener().catch((e) => this.listenerLost(e));
    if (this.options.pollIntervalMs > 0) {
      this.timer = setInterval(() => void this.sync(), this.options.pollIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * This instance committed events: resolves once this bus has them (the step that
   * numbers them wakes the other instances).
   */
  committed(): Promise<void> {
    return this.sync();
  }

  /** Resolves after a step that began after this call has published what it found. */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.steps.after();
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    try {
      // One statement per round: numbers what is committed and unnumbered (notifying the
      // other instances if it did), and returns the events after the last published pos.
      const notify = this.options.listen ? { channel: this.channel, payload: this.instance } : null;
      for (;;) {
        const r = await feedStep(this.db, this.bus.lastPublishedId, SEQUENCE_BATCH, PAGE, notify);
        for (const e of r.events) this.bus.publish(e);
        if (r.events.length < PAGE && r.numbered < SEQUENCE_BATCH) break;
      }
    } catch (e) {
      // A failed step (database restarting) is retried by the next wake-up or the timer.
      if (!this.stopped) this.options.onError(`event feed: ${(e as Error).message}`);
    }
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client(clientConfig(this.settings));
    client.on('error', (e) => this.listenerLost(e));
    client.on('end', () => this.listenerLost(new Error('listener connection ended')));
    client.on('notification', (n) => {
      if (n.payload !== this.instance) void this.sync();
    });
    this.listener = client;
    await client.connect();
    await client.query(`LISTEN ${this.channel}`);
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.listening = true;
    this.reconnectMs = RECONNECT_MIN_MS;
    // Whatever was committed while no one listened.
    void this.sync();
  }

  private listenerLost(e: unknown): void {
    if (this.stopped || this.reconnectTimer) return;
    const old = this.listener;
    this.listener = null;
    this.listening = false;
    old?.removeAllListeners('end');
    old?.end().catch(() => {});
    this.options.onError(`event listener: ${(e as Error).message}; reconnecting in ${this.reconnectMs} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connectListener().catch((err) => this.listenerLost(err));
    }, this.reconnectMs);
    this.reconnectTimer.unref();
    this.reconnectMs = Math.min(this.reconnectMs * 2, RECONNECT_MAX_MS);
  }

  /** Drops the listener for a test of reconnection. */
  breakListener(): void {
    this.listener?.emit('error', new Error('listener broken on purpose'));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.timer = null;
    this.reconnectTimer = null;
    const l = this.listener;
    this.listener = null;
    if (l) {
      l.removeAllListeners('end');
      l.removeAllListeners('error');
      l.on('error', () => {});
      await l.end().catch(() => {});
    }
    await this.steps.running;
  }
}
