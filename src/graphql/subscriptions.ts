/**
 * Bridges from the bus to GraphQL subscriptions. Every stream holds a bounded buffer
 * (see BoundedStream), and every event is turned into fresh state read from the store
 * when the client is ready for it.
 */
import { BoundedStream } from '../events/stream.js';
import type { StoredEvent, TaskFilter, TaskStore, Task } from '../store/index.js';
import type { Context } from './context.js';

export const TASK_EVENT_KINDS = new Set([
  'ENQUEUED',
  'UNBLOCKED',
  'CLAIMED',
  'PROGRESS',
  'SUCCEEDED',
  'RETRY_SCHEDULED',
  'FAILED',
  'TIMED_OUT',
  'CANCEL_REQUESTED',
  'CANCELLED',
  'LEASE_EXPIRED',
  'REQUEUED',
]);

/** Live bus events that pass `accept`, until the client goes away. */
export async function* liveEvents(ctx: Context, accept: (e: StoredEvent) => boolean): AsyncGenerator<StoredEvent> {
  const stream = new BoundedStream<StoredEvent>(ctx.limits.subscriptionBuffer, () => unsubscribe());
  const unsubscribe = ctx.bus.subscribe((e) => {
    if (accept(e)) stream.push(e);
  });
  try {
    yield* stream;
  } finally {
    stream.end();
  }
}

/**
 * The outbox after `after`, then live events, with no gap and no duplicate at the seam.
 * Replay reads pages until it has reached what the bus has published; the switch to
 * live happens in one synchronous step (check, then subscribe), so no event can be
 * published in between. Rows that another process committed and this one has not yet
 * published can show up in replay first: the id check drops their live copy.
 */
export async function* replayThenLive(
  ctx: Context,
  after: number,
  accept: (e: StoredEvent) => boolean,
): AsyncGenerator<StoredEvent> {
  let cursor = after;
  for (;;) {
    const rows = await ctx.store.eventsAfter(cursor, 500);
    for (const e of rows) {
      cursor = e.id;
      if (accept(e)) yield e;
    }
    if (rows.length === 500) continue;
    // Nothing after the cursor although the bus is further on: those rows were trimmed.
    if (rows.length === 0) cursor = Math.max(cursor, ctx.bus.lastPublishedId);
    if (cursor >= ctx.bus.lastPublishedId) break;
  }
  const seen = cursor;
  for await (const e of liveEvents(ctx, (e) => e.id > seen && accept(e))) yield e;
}

/** The cheap part of a TaskFilter, checked on the outbox row before any read. */
export function eventMatches(filter: TaskFilter | null | undefined, e: StoredEvent): boolean {
  if (!TASK_EVENT_KINDS.has(e.kind)) return false;
  if (!filter) return true;
  if (filter.status && (!e.status || !filter.status.includes(e.status))) return false;
  if (filter.queue && e.queue !== filter.queue) return false;
  if (filter.type && (!e.type || !filter.type.includes(e.type))) return false;
  return true;
}

/** The rest of a TaskFilter, checked on the task itself. */
export function taskMatches(filter: TaskFilter | null | undefined, t: Task): boolean {
  if (!filter) return true;
  if (filter.region && (!t.region || !filter.region.includes(t.region))) return false;
  if (filter.format && (!t.format || !filter.format.includes(t.format))) return false;
  if (filter.correlationId && t.correlationId !== filter.correlationId) return false;
  if (filter.idempotencyKey && t.idempotencyKey !== filter.idempotencyKey) return false;
  if (filter.createdAfter != null && !(t.createdAt > filter.createdAfter)) return false;
  if (filter.createdBefore != null && !(t.createdAt < filter.createdBefore)) return false;
  return true;
}

export type { TaskStore };
