/**
 * Outcomes sent together: completions (or failures) that are handed in during the same
 * turn of the event loop go out as one batch request (`completeTasks`, `failTasks`);
 * a lone one goes out as the single mutation. Each caller still gets its own answer.
 *
 * The batch mutations are all or none. When the server refuses a whole batch with a
 * definite answer (LEASE_LOST, VALIDATION, ...), one of its inputs caused it and the
 * answer does not say which: every input is then sent again on its own, so each caller
 * gets the answer for its own lease. A transient failure (network, BUSY) rejects every
 * caller with it; their retries come back here and are batched again.
 */
import { isTransientError } from './errors.js';

interface Pending<I, A> {
  input: I;
  resolve: (answer: A) => void;
  reject: (error: unknown) => void;
}

export class OutcomeBatch<I, A> {
  private pending: Pending<I, A>[] = [];
  private scheduled = false;

  constructor(
    private readonly sendOne: (input: I) => Promise<A>,
    private readonly sendMany: (inputs: I[]) => Promise<A[]>,
    /** Most inputs in one request (the server's batch limit). */
    private readonly max: number,
  ) {}

  send(input: I): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length >= this.max) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // After the promise callbacks of this turn: outcomes of one claimed batch settle together.
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.pending.splice(0, this.max);
    if (batch.length === 0) return;
    if (batch.length === 1) return this.alone(batch[0]!);
    this.sendMany(batch.map((p) => p.input)).then(
      (answers) => {
        for (const [i, p] of batch.entries()) p.resolve(answers[i]!);
      },
      (error: unknown) => {
        if (isTransientError(error)) for (const p of batch) p.reject(error);
        else for (const p of batch) this.alone(p);
      },
    );
  }

  private alone(p: Pending<I, A>): void {
    this.sendOne(p.input).then(p.resolve, p.reject);
  }
}
