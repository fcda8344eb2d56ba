/**
 * Bridges from the bus to GraphQL subscriptions.
 *
 * Every stream here is a plain async iterator, not an async generator: when a client
 * goes away, graphql-js calls `return()`, and a generator parked in `await` would only
 * run its cleanup at the next matching event (for a quiet subscription, never). These
 * iterators end at once and let go of their bus listener.
 *
 * Every live stream subscribes to the bus when it is created, before the first read of
 * current state, so nothing that happens in between is lost; each holds a bounded buffer
 * (BoundedStream); and every event is turned into fresh state from the store when the
 * client is ready for it.
 */
import { BoundedStream } from '../events/stream.js';
import type { EventBus } from '../events/bus.js';
import { TASK_EVENT_KINDS as TASK_EVENT_KIND_LIST, type StoredEvent, type Task, type TaskFilter } from '../store/index.js';
import type { Context } from './context.js';

export const TASK_EVENT_KINDS: ReadonlySet<string> = new Set(TASK_EVENT_KIND_LIST);

const DONE = { value: undefined, done: true } as IteratorReturnResult<undefined>;

/** Live bus events that pass `accept`, subscribed from this moment on. */
export function liveEvents(ctx: Context, accept: (e: StoredEvent) => boolean): BoundedStream<StoredEvent> {
  const stream: BoundedStream<StoredEvent> = new BoundedStream<StoredEvent>(ctx.limits.subscriptionBuffer, () => unsubscribe());
  const unsubscribe = ctx.bus.subscribe((e) => {
    if (accept(e)) stream.push(e);
  });
  return stream;
}

/**
 * `first` (if given), then `map` of each source item, skipping undefined results. Ending
 * it ends the source at once, even while a `next()` is waiting.
 */
export function mapStream<S, T>(
  source: AsyncIterator<S>,
  map: (item: S) => Promise<T | undefined>,
  first?: () => Promise<T | undefined>,
): AsyncIterableIterator<T> {
  let pendingFirst = first;
  let closed = false;
  const close = async () => {
    closed = true;
    await source.return?.();
    return DONE;
  };
  return {
    async next(): Promise<IteratorResult<T>> {
      if (pendingFirst) {
        const f = pendingFirst;
        pendingFirst = undefined;
        const value = await f();
        if (value !== undefined && !closed) return { value, done: false };
      }
      while (!closed) {
        const r = await source.next();
        if (r.done || closed) break;
        const value = await map(r.value);
        if (value !== undefined && !closed) return { value, done: false };
      }
      return DONE;
    },
    return: close,
    async throw(e: unknown) {
      await close();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * The outbox after `after`, then live events, with no gap and no duplicate at the seam.
 * Replay reads pages until it has caught up with what the bus has published; the switch
 * to live happens in one synchronous step (check, then subscribe), so no event can be
 * published in between. Rows that another process committed and this one has not yet
 * published can show up in replay first: the id check drops their live copy.
 */
export function replayThenLive(
  ctx: Context,
  after: number,
  accept: (e: StoredEvent) => boolean,
): AsyncIterableIterator<StoredEvent> & { upcoming(): readonly StoredEvent[] } {
  let cursor = after;
  let page: StoredEvent[] = [];
  let live: BoundedStream<StoredEvent> | null = null;
  let closed = false;
  return {
    /** The events already read or buffered that next() will return, oldest first. */
    upcoming: () => (page.length > 0 ? page : (live?.peek() ?? [])),
    async next(): Promise<IteratorResult<StoredEvent>> {
      while (!closed) {
        const e = page.shift();
        if (e) return { value: e, done: false };
        if (live) return live.next();
        // Read what the bus has published before the query: anything published while the
        // query runs is newer, and the check below sends us round again to read it.
        const published = ctx.bus.lastPublishedId;
        const rows = await ctx.store.eventsAfter(cursor, 500);
        if (closed) break;
        if (rows.length > 0) {
          cursor = rows[rows.length - 1]!.id;
          page = rows.filter(accept);
          continue;
        }
        // Nothing in the outbox after the cursor up to `published`: those rows were trimmed.
        cursor = Math.max(cursor, published);
        if (cursor >= ctx.bus.lastPublishedId) {
          const seen = cursor;
          live = liveEvents(ctx, (ev) => ev.id > seen && accept(ev));
        }
      }
      return DONE;
    },
    async return() {
      closed = true;
      page = [];
      live?.end();
      return DONE;
    },
    async throw(e: unknown) {
      closed = true;
      live?.end();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * A stream of "something changed" that folds bursts: however many events arrive, the
 * consumer is woken at most once per `minGapMs`, and nothing is buffered but a flag.
 */
export function coalescedChanges(bus: EventBus, accept: (e: StoredEvent) => boolean, minGapMs: number): AsyncIterableIterator<true> {
  let dirty = false;
  let closed = false;
  // Two separate wake-ups: an event ends a wait for a change, never the quiet gap.
  let changed: (() => void) | null = null;
  let gapOver: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let last = 0;
  const unsubscribe = bus.subscribe((e) => {
    if (!accept(e)) return;
    dirty = true;
    changed?.();
  });
  const stop = () => {
    closed = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
    changed?.();
    gapOver?.();
  };
  return {
    async next(): Promise<IteratorResult<true>> {
      while (!closed && !dirty) await new Promise<void>((r) => (changed = r));
      changed = null;
      const wait = last + minGapMs - Date.now();
      if (!closed && wait > 0) {
        await new Promise<void>((r) => {
          gapOver = r;
          timer = setTimeout(r, wait);
        });
      }
      gapOver = null;
      if (closed) return DONE;
      dirty = false;
      last = Date.now();
      return { value: true, done: false };
    },
    async return() {
      stop();
      return DONE;
    },
    async throw(e: unknown) {
      stop();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

interface SharedReads {
  /** The bus's newest event when these reads were made. */
  published: number;
  /** Read of the event's task, by event id. */
  reads: Map<number, Promise<Task | null>>;
  clearing: boolean;
}

const sharedReads = new WeakMap<object, SharedReads>();

/**
 * The task an event is about, read fresh from the store, once for all the subscriptions
 * that map this event in the same pass. When an event is published, every subscription
 * waiting on the bus wakes in the same run of the microtask queue and asks for the same
 * row: they share one read. The reads are forgotten as soon as that run ends
 * (process.nextTick runs after it), and at once when a newer event is published in
 * between (a write has landed): a subscription that pulls the event later, because its
 * client was busy, reads again. Nothing is kept past the pass that made the read.
 */
export function taskForEvent(ctx: Pick<Context, 'store' | 'bus'>, event: StoredEvent): Promise<Task | null> {
  let shared = sharedReads.get(ctx.store);
  if (!shared) {
    shared = { published: ctx.bus.lastPublishedId, reads: new Map(), clearing: false };
    sharedReads.set(ctx.store, shared);
  }
  if (shared.published !== ctx.bus.lastPublishedId) {
    shared.reads.clear();
    shared.published = ctx.bus.lastPublishedId;
  }
  let read = shared.reads.get(event.id);
  if (!read) {
    read = ctx.store.getTask(event.taskId!);
    shared.reads.set(event.id, read);
    if (!shared.clearing) {
      shared.clearing = true;
      const s = shared;
      process.nextTick(() => {
        s.reads.clear();
        s.clearing = false;
      });
    }
  }
  return read;
}

/** Most events whose tasks one look-ahead read fetches. */
const LOOK_AHEAD = 200;

/**
 * The task of each event of a stream, read ahead: when an event's task has not been read,
 * the tasks of the events waiting behind it are read with it, in one query. A subscriber
 * that has fallen behind (a replay, a burst) then costs one read per batch instead of one
 * per event, which is what bounds it on a networked database. Each task is still read
 * after its event was committed and published: "the task now", as with one read each.
 */
export function taskReader(ctx: Pick<Context, 'store' | 'bus'>, upcoming: () => readonly StoredEvent[]): (event: StoredEvent) => Promise<Task | null> {
  const ahead = new Map<number, Promise<Task | null>>();
  return (event) => {
    const read = ahead.get(event.id);
    if (read) {
      ahead.delete(event.id);
      return read;
    }
    const waiting = upcoming();
    if (waiting.length === 0) return taskForEvent(ctx, event);
    const batch = [event, ...waiting.slice(0, LOOK_AHEAD).filter((e) => e.taskId !== null && !ahead.has(e.id))];
    const ids = [...new Set(batch.map((e) => e.taskId!))];
    const tasks = ctx.store.getTasks(ids).then((list) => new Map(ids.map((id, i) => [id, list[i] ?? null])));
    for (const e of batch) {
      const one = tasks.then((byId) => byId.get(e.taskId!) ?? null);
      // Read ahead for events this subscriber may never reach (it closes first): a failed
      // read must not become an unhandled rejection; whoever awaits it still sees it fail.
      one.catch(() => {});
      ahead.set(e.id, one);
    }
    const own = ahead.get(event.id)!;
    ahead.delete(event.id);
    return own;
  };
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
