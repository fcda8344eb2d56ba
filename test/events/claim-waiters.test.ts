/**
 * The long-poll's waiters wake on events of their own queue that may hand work out: a
 * QUEUED task, a freed slot, and a pause that changed (a resume). The due timer is set
 * far out here, so only the event can wake them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bus.js';
import { ClaimWaiters } from '../../src/events/claim-waiters.js';
import type { StoredEvent } from '../../src/store/index.js';

let id = 0;
const event = (e: Partial<StoredEvent>): StoredEvent => ({
  id: ++id,
  kind: 'ENQUEUED',
  at: 0,
  taskId: null,
  status: null,
  queue: null,
  type: null,
  workerId: null,
  logId: null,
  ...e,
});

const open: ClaimWaiters[] = [];
afterEach(() => {
  for (const w of open.splice(0)) w.close();
});

function setup() {
  const bus = new EventBus();
  const waiters = new ClaimWaiters(bus, 60_000);
  open.push(waiters);
  return { bus, waiters };
}

describe('ClaimWaiters', () => {
  it("a queue's resume (QUEUE_UPDATED) wakes its waiters, and only that queue's", async () => {
    const { bus, waiters } = setup();
    const media = waiters.wait('media', 5000);
    const other = waiters.wait('other', 50);
    bus.publish(event({ kind: 'QUEUE_UPDATED', queue: 'media' }));
    expect(await media).toBe('work');
    expect(await other).toBe('timeout');
  });

  it('an event that hands out no work (a log line, a running task) wakes nobody', async () => {
    const { bus, waiters } = setup();
    const w = waiters.wait('q', 50);
    bus.publish(event({ kind: 'LOG_ADDED', queue: 'q', taskId: 1 }));
    bus.publish(event({ kind: 'CLAIMED', queue: 'q', taskId: 1, status: 'RUNNING' }));
    expect(await w).toBe('timeout');
  });
});
