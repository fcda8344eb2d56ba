/**
 * Long-poll claims. A claim that found nothing parks here until the bus says that its
 * queue may have work (a task became QUEUED, or a RUNNING one ended and freed a
 * concurrency slot), its wait runs out, or the server shuts down. One bus listener and
 * one timer serve every waiting request: there is no polling loop per request.
 */
import type { StoredEvent } from '../store/index.js';
import type { EventBus } from './bus.js';

interface Waiter {
  queue: string;
  wake: (reason: 'work' | 'timeout' | 'closed') => void;
}

const FREES_A_SLOT = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'RETRY_SCHEDULED', 'LEASE_EXPIRED', 'TIMED_OUT']);

export class ClaimWaiters {
  private readonly waiters = new Set<Waiter>();
  private readonly unsubscribe: () => void;
  /** Wakes everyone now and then, for tasks that were delayed (runAfter) and are now due. */
  private readonly dueTimer: NodeJS.Timeout;
  private closed = false;

  constructor(bus: EventBus, dueCheckMs = 1000) {
    this.unsubscribe = bus.subscribe((e) => this.onEvent(e));
    this.dueTimer = setInterval(() => this.wakeAll('work'), dueCheckMs);
    this.dueTimer.unref();
  }

  get size(): number {
    return this.waiters.size;
  }

  private onEvent(e: StoredEvent): void {
    if (this.waiters.size === 0 || e.queue === null) return;
    // New work, a freed slot, or a pause that changed (QUEUE_UPDATED: a resume hands work out).
    if (e.status !== 'QUEUED' && !FREES_A_SLOT.has(e.kind) && e.kind !== 'QUEUE_UPDATED') return;
    for (const w of this.waiters) if (w.queue === e.queue) w.wake('work');
  }

  private wakeAll(reason: 'work' | 'closed'): void {
    for (const w of this.waiters) w.wake(reason);
  }

  /** Resolves when there may be work in `queue`, after `ms`, or at shutdown. */
  wait(queue: string, ms: number, signal?: AbortSignal): Promise<'work' | 'timeout' | 'closed'> {
    if (this.closed) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const waiter: Waiter = {
        queue,
        wake: (reason) => {
          this.waiters.delete(waiter);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(reason);
        },
      };
      const onAbort = () => waiter.wake('closed');
      const timer = setTimeout(() => waiter.wake('timeout'), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Ends every wait (shutdown). */
  close(): void {
    this.closed = true;
    clearInterval(this.dueTimer);
    this.unsubscribe();
    this.wakeAll('closed');
  }
}
