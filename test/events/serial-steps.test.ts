/** SerialSteps: one step at a time; a caller waits for a step that began after it asked. */
import { describe, expect, it } from 'vitest';
import { SerialSteps } from '../../src/events/serial-steps.js';

/** A step that records when it starts and ends only when the test lets it. */
function controlled() {
  const log: string[] = [];
  const gates: (() => void)[] = [];
  let n = 0;
  const steps = new SerialSteps(() => {
    const k = ++n;
    log.push(`start ${k}`);
    return new Promise<void>((resolve) =>
      gates.push(() => {
        log.push(`end ${k}`);
        resolve();
      }),
    );
  });
  const open = async () => {
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { steps, log, open };
}

describe('SerialSteps', () => {
  it('starts a step at once when idle, and resolves when it ends', async () => {
    const { steps, log, open } = controlled();
    let done = false;
    void steps.after().then(() => (done = true));
    expect(log).toEqual(['start 1']);
    await open();
    expect(done).toBe(true);
    expect(steps.running).toBeNull();
  });

  it('callers that arrive during a step share one next step, which begins only after it', async () => {
    const { steps, log, open } = controlled();
    const first = steps.after();
    const resolved: string[] = [];
    void first.then(() => resolved.push('first'));
    const a = steps.after().then(() => resolved.push('a'));
    const b = steps.after().then(() => resolved.push('b'));
    expect(log).toEqual(['start 1']);
    await open();
    // The first caller is done; a and b wait for the step that began after they asked.
    expect(resolved).toEqual(['first']);
    expect(log).toEqual(['start 1', 'end 1', 'start 2']);
    await open();
    await Promise.all([a, b]);
    expect(resolved).toEqual(['first', 'a', 'b']);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });
});
