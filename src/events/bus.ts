import type { StoredEvent } from '../store/types.js';

export type EventListener = (event: StoredEvent) => void;

/**
 * The in-process event bus. The store publishes each committed outbox row here exactly
 * once and in id order, whether this process or another one wrote it. Listeners run
 * synchronously and must be cheap (push into a queue, wake a waiter): a slow one would
 * hold back every other listener.
 */
export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private last = 0;

  /** Id of the newest event published; subscriptions replay from the outbox up to here. */
  get lastPublishedId(): number {
    return this.last;
  }

  /** Where publishing starts; set once by the store when it opens. */
  startAt(id: number): void {
    this.last = id;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  publish(event: StoredEvent): void {
    if (event.id <= this.last) return;
    this.last = event.id;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener must not stop the others or the writer that published.
      }
    }
  }
}
