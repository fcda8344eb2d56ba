/**
 * A job that runs one step at a time and is asked for often: `after()` resolves once a
 * step that began after the call has finished. Callers that arrive while a step runs all
 * share the one next step, so a burst of requests costs two steps, not one each.
 * (The PostgreSQL feed: "publish what was committed before I asked".)
 */
export class SerialSteps {
  private current: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(private readonly step: () => Promise<void>) {}

  after(): Promise<void> {
    if (this.next) return this.next;
    if (!this.current) return this.begin();
    this.next = this.current.then(() => {
      this.next = null;
      return this.begin();
    });
    return this.next;
  }

  /** The step running now, if any (to wait for it at shutdown). */
  get running(): Promise<void> | null {
    return this.current;
  }

  private begin(): Promise<void> {
    const step = this.step().finally(() => {
      if (this.current === step) this.current = null;
    });
    this.current = step;
    return step;
  }
}
