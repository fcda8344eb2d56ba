/** The status machine as a table. */
import { describe, expect, it } from 'vitest';
import { FINISHED_STATUSES, SETTLED_STATUSES, TRANSITIONS, canTake, isFinished } from '../../../src/store/engine/transitions.js';
import { TASK_STATUSES } from '../../../src/store/types.js';

describe('TRANSITIONS', () => {
  it('only RUNNING tasks complete, fail or end an attempt; only waiting ones are cancelled outright', () => {
    for (const status of TASK_STATUSES) {
      expect(canTake('complete', status), status).toBe(status === 'RUNNING');
      expect(canTake('fail', status), status).toBe(status === 'RUNNING');
      expect(canTake('cancelWhileWaiting', status), status).toBe(status === 'QUEUED' || status === 'BLOCKED');
      expect(canTake('retry', status), status).toBe(status === 'FAILED' || status === 'CANCELLED');
      expect(canTake('claim', status), status).toBe(status === 'QUEUED');
      expect(canTake('unblock', status), status).toBe(status === 'BLOCKED');
    }
  });

  it('no step leaves SUCCEEDED: it is final', () => {
    for (const [step, t] of Object.entries(TRANSITIONS)) expect(t.from, step).not.toContain('SUCCEEDED');
  });

  it('every step that ends in a finished status records an event named after it', () => {
    for (const [step, t] of Object.entries(TRANSITIONS)) {
      if (t.to && isFinished(t.to)) expect(t.event, step).toBe(t.to);
    }
  });

  it('settled statuses are BLOCKED and the finished ones', () => {
    expect([...SETTLED_STATUSES].sort()).toEqual(['BLOCKED', ...FINISHED_STATUSES].sort());
  });
});
