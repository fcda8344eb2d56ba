/**
 * The SQLite event feed: every committed outbox row, from this connection and from
 * every other process writing the same file, published to the bus once and in id order.
 *
 * This connection's rows are published right after its commit. Another process's rows
 * are found by watching PRAGMA data_version (it moves when another connection commits)
 * on a short timer, and by a catch-up before publishing our own rows when their first id
 * is not the next one expected. Both rely on SQLite's single writer: ids are handed out
 * in commit order, so "every row after the last published id" has no gaps.
 */
import type { EventBus } from '../../events/bus.js';
import type { StoredEvent } from '../types.js';
import { eventsAfter } from './queries/outbox.js';
import type { Statements } from './statements.js';

/** Rows read per catch-up query. */
const PAGE = 1000;

export class OutboxFeed {
  private timer: NodeJS.Timeout | null = null;
  private lastDataVersion: number;

  constructor(
    private readonly sql: Statements,
    private readonly bus: EventBus,
  ) {
    this.lastDataVersion = this.dataVersion();
  }

  /** Looks for other processes' commits every `intervalMs`. */
  follow(intervalMs: number): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Publishes the rows one transaction of this connection committed. */
  publish(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    // If the first of ours is not the next one the bus expects, another process
    // committed in between: publish its rows first, so subscribers see one sequence.
    if (events[0]!.id !== this.bus.lastPublishedId + 1) this.catchUp();
    for (const e of events) this.bus.publish(e);
  }

  /** Publishes every outbox row after the last published one. */
  catchUp(): void {
    for (;;) {
      const rows = eventsAfter(this.sql, this.bus.lastPublishedId, PAGE);
      for (const r of rows) this.bus.publish(r);
      if (rows.length < PAGE) return;
    }
  }

  /** Catches up if another connection has committed since the last look. */
  poll(): void {
    try {
      const v = this.dataVersion();
      if (v === this.lastDataVersion) return;
      this.lastDataVersion = v;
      this.catchUp();
    } catch {
      // A transient read failure (lock, I/O) is retried on the next tick.
    }
  }

  private dataVersion(): number {
    // A cached statement: db.pragma() prepares one on every call, and this runs 50 times a second.
    return this.sql.get('PRAGMA data_version').pluck().get() as number;
  }
}
