/**
 * A bounded async queue between the bus (which pushes synchronously) and one
 * subscription (which pulls at the client's pace). When a slow client lets more than
 * `max` items pile up, the stream ends with a SLOW_CONSUMER error instead of growing
 * the server's memory: the client reconnects with its last cursor and misses nothing.
 */
import { TaskwireError } from '../store/index.js';

export class BoundedStream<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private failWaiting: ((e: unknown) => void) | null = null;
  private error: unknown = null;
  private done = false;
  private readonly onClose: () => void;

  constructor(
    private readonly max: number,
    onClose: () => void = () => {},
  ) {
    this.onClose = onClose;
  }

  get buffered(): number {
    return this.items.length;
  }

  /** The items waiting, oldest first, without taking them. */
  peek(): readonly T[] {
    return this.items;
  }

  push(item: T): void {
    if (this.done || this.error) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = null;
      resolve({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.max) {
      this.fail(
        new TaskwireError('SLOW_CONSUMER', `the subscription fell more than ${this.max} events behind and was closed; resubscribe with your last cursor`),
      );
      return;
    }
    this.items.push(item);
  }

  fail(error: unknown): void {
    if (this.done || this.error) return;
    this.error = error;
    this.items.length = 0;
    this.onClose();
    if (this.failWaiting) {
      const reject = this.failWaiting;
      this.waiting = this.failWaiting = null;
      reject(error);
    }
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.onClose();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = null;
      resolve({ value: undefined as never, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.error) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined as never, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined as never, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.fail(error);
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
